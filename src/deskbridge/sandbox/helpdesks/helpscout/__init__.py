"""Emulated helpscout: the real API's paths under /sandbox/helpscout/."""
