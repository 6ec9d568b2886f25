"""Notifications: an outbox of e-mails written in the request's transaction, sent after commit."""

# Delivery right after commit hangs on SQLAlchemy session events: register them with the package.
from lms.notifications import delivery  # noqa: F401
