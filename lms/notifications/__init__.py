"""Notifications: an outbox of e-mails written in the request's transaction, sent after commit."""
