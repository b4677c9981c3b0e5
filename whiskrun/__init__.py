"""whiskrun: run OpenWhisk actions on one machine, and start them fast."""

__version__ = "0.1.0"
