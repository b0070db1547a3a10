"""Help Scout (Inbox / Mailbox API 2.0): OAuth 2.0, conversations authored by the buyer, signed webhooks."""
