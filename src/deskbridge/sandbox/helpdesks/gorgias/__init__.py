"""Emulated gorgias: the real API's paths under /sandbox/gorgias/."""
