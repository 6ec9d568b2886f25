"""Messages to families: a coordinator or an instructor writes to the parents of a cohort, of a
course, or of the children on waiting lists; the outbox delivers, a copy is kept."""
