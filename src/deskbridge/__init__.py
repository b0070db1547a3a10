"""deskbridge: Amazon buyer messages in your helpdesk."""

__version__ = "0.1.0"
