"""Errors that end a command with one clear sentence instead of a traceback."""


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one sentence telling what to set."""
