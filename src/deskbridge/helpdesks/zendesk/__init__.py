"""Zendesk Support: tickets through the REST API, agent replies through a signed trigger webhook."""
