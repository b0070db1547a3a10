"""Emulated kustomer: the real API's paths under /sandbox/kustomer/."""
