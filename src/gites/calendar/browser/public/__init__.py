"""The public views (the iframe calendars and the iCal feed)."""
