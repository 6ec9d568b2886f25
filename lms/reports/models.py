"""Reports keep no table of their own: every figure is computed from the domains' records, and
every export is written to the audit log (lms/audit)."""
