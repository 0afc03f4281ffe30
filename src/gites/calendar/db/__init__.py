"""The database: engine and sessions, models, schema, locks."""
