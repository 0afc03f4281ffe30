"""GenericSetup upgrade steps of the ``gites.calendar:default`` profile."""
