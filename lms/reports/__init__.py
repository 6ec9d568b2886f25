"""Reports: the coordinators' dashboard of a term, the lists behind its figures, and the
spreadsheet exports (rosters, contacts, enrolments, waiting lists, certificates, payments)."""
