"""The audit log: one table written by the services, read by coordinators."""
