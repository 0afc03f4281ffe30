"""The site managers' views (the owner links control panel)."""
