"""Emulated helpdesks: one package per helpdesk, sharing the state and plumbing in this one."""
