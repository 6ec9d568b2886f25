"""Reports: the coordinators' dashboard of a term, the lists behind its figures, and the
spreadsheet exports (rosters, contacts, enrolments, waiting lists, certificates, payments).

Reports keep no table of their own: every figure is computed from the domains' records, and
every export is written to the audit log (lms/audit)."""
