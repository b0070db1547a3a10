"""Kustomer: the documented custom-channel recipe (customers and conversations by externalId, messages with direction "in"), agent replies by a signed outbound webhook."""
