"""Dialplane shared library: settings, database, migrations, event stream, logging, metrics, errors."""

__version__ = "0.1.0"
