"""Benchmarks of gites.calendar: run ``bin/python benchmarks/run.py`` (see docs/performance.rst)."""
