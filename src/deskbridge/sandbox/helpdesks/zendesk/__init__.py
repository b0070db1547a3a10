"""Emulated zendesk: the real API's paths under /sandbox/zendesk/."""
