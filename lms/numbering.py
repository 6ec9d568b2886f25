"""Gapless document numbers: one sequence per kind of document and per year.

A receipt or a credit note is numbered 1, 2, 3... within its year, with no gap, as the tax
rules ask. A database sequence (or an autoincrement id) cannot do that: a number taken by a
transaction that rolls back is lost. Here the next number of each (kind, year) is a row of
``document_counters``, taken in the caller's own transaction:

1. ``INSERT ... ON CONFLICT DO NOTHING`` makes sure the year's row exists;
2. ``UPDATE ... SET next_value = next_value + 1 ... RETURNING`` takes the number.

The UPDATE locks the row until the caller's transaction ends (PostgreSQL's row lock; on SQLite
every writing transaction holds the database's write lock from ``BEGIN IMMEDIATE``), so two
issuers of the same kind and year take turns; a transaction that rolls back gives its number
back with everything else, and the next issuer takes that same number. The lock is held
until the commit: number documents as late as the transaction allows.
"""

from __future__ import annotations

from sqlalchemy import String, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db


class DocumentCounter(db.Model):
    """The next number of one kind of document in one year."""

    __tablename__ = "document_counters"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    next_value: Mapped[int] = mapped_column(default=1)


def next_number(kind: str, year: int) -> int:
    """Take the next number of ``kind`` in ``year`` (1 for the first), in the caller's
    transaction: it is the caller's for good once that transaction commits."""
    session = db.session
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(DocumentCounter)
        .values(kind=kind, year=year, next_value=1)
        .on_conflict_do_nothing(index_elements=["kind", "year"])
    )
    taken = session.execute(
        update(DocumentCounter)
        .where(DocumentCounter.kind == kind, DocumentCounter.year == year)
        .values(next_value=DocumentCounter.next_value + 1)
        .returning(DocumentCounter.next_value)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return taken - 1
