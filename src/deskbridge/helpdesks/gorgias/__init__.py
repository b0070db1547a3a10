"""Gorgias: tickets on the `api` channel, replies out through an HTTP integration (helpdesks.md §4.4)."""
