"""Certificates: eligibility, issue and revoke, PDF rendering, public verification."""
