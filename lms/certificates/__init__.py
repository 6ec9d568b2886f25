"""Certificates: eligibility, issue and revoke, PDF rendering, public verification."""

from lms.certificates import wiring  # noqa: F401 - fills the families hooks
