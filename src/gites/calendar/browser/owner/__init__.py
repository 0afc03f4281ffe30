"""The owners' views (their calendars, forms and feeds)."""
