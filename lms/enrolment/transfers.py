"""Bank transfers: each family's reference per term, statement imports, matching.

A family (the parent who pays) has one short reference per term, ``AL`` + Crockford base32
of (parent, term) + a Luhn mod 32 check character: derived, never stored, so a page shows it
without writing, and a mistyped character is caught. A coordinator imports the bank's
statement (CSV, with the columns remembered per bank, or ISO 20022 camt.053 XML: read by
statements.py); each credit
becomes a line, matched by reference first, then by exact amount and the payer's name, and a
person confirms (or corrects) the match, which books the payments and receipts. A line is
confirmed once; importing the same statement again adds nothing (each line's fingerprint is
unique).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from lms.accounts.models import User
from lms.audit.services import record
from lms.courses.terms import Term, term_by_key, term_of
from lms.database import utcnow
from lms.enrolment.fees import allocate, book_payment, owed_enrolments
from lms.enrolment.models import (
    BankCsvMapping,
    MatchBasis,
    PaymentMethod,
    StatementLine,
    StatementLineStatus,
)
from lms.enrolment.rules import require_coordinator
from lms.enrolment.statements import Credit, StatementError
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Guardianship
from lms.roles import Role

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
_READ_AS = {"O": "0", "I": "1", "L": "1"}
_SEASONS = ("autumn", "winter", "spring", "summer")
_FIRST_YEAR = 2020
_TERM_SLOTS = 512  # terms counted from autumn 2020: enough until 2148
PREFIX = "AL"
_REFERENCE_IN_TEXT = re.compile(r"\bAL[\s.-]?([0-9A-Z]{2,4}[\s.-]?[0-9A-Z]{1,8})\b")
MAX_LINES = 5000


# ---------------------------------------------------------------------------------------------
# Transfer references


def _luhn_check(body: str) -> str:
    """Luhn mod 32 check character of ``body``: catches any single wrong character and most
    swaps of two neighbours."""
    total, factor = 0, 2
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def _term_slot(term: Term) -> int:
    year, _, season = term.key.partition("-")
    return (int(year) - _FIRST_YEAR) * 4 + _SEASONS.index(season)


def transfer_reference(payer_id: int, term: Term) -> str:
    """The reference a family writes on its bank transfers for ``term`` ("AL3F9QK")."""
    value = payer_id * _TERM_SLOTS + _term_slot(term)
    body = ""
    while value:
        value, digit = divmod(value, 32)
        body = ALPHABET[digit] + body
    body = body.rjust(4, "0")
    return PREFIX + body + _luhn_check(body)


def read_reference(text: str) -> tuple[int, Term] | None:
    """The parent id and term of a transfer reference, or None if it is not a valid one."""
    code = re.sub(r"[\s.-]", "", text.upper())
    if not code.startswith(PREFIX):
        return None
    code = "".join(_READ_AS.get(char, char) for char in code[len(PREFIX) :])
    if len(code) < 5 or any(char not in ALPHABET for char in code):
        return None
    body, check = code[:-1], code[-1]
    if _luhn_check(body) != check:
        return None
    value = 0
    for char in body:
        value = value * 32 + ALPHABET.index(char)
    payer_id, slot = divmod(value, _TERM_SLOTS)
    term = term_by_key(f"{_FIRST_YEAR + slot // 4}-{_SEASONS[slot % 4]}")
    if payer_id <= 0 or term is None:
        return None
    return payer_id, term


def find_reference(*texts: str | None) -> tuple[int, Term] | None:
    """The first valid transfer reference written in these texts (a statement line's)."""
    for text in texts:
        for found in _REFERENCE_IN_TEXT.finditer((text or "").upper()):
            reading = read_reference(PREFIX + found.group(1))
            if reading is not None:
                return reading
    return None


# ---------------------------------------------------------------------------------------------
# Importing and matching


def _fingerprint(credit: Credit, rank: int) -> str:
    parts = (
        credit.booked_on.isoformat(),
        str(credit.amount_centimes),
        credit.bank_reference or "",
        credit.text,
        credit.payer_name or "",
        str(rank),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class ImportResult:
    added: list[StatementLine]
    already_there: int

    @property
    def matched(self) -> int:
        return sum(1 for line in self.added if line.status == StatementLineStatus.SUGGESTED)


def import_credits(credits: Sequence[Credit], *, actor: User, source: str) -> ImportResult:
    """Store the credits not imported before and suggest a family for each."""
    require_coordinator(actor)
    if len(credits) > MAX_LINES:
        raise StatementError(
            _l("A statement may have at most %(count)s lines.", count=MAX_LINES), field="file"
        )
    seen: Counter = Counter()
    fingerprints = []
    for credit in credits:
        key = (credit.booked_on, credit.amount_centimes, credit.bank_reference, credit.text)
        fingerprints.append(_fingerprint(credit, seen[key]))
        seen[key] += 1
    known = set(
        db.session.scalars(
            select(StatementLine.fingerprint).where(StatementLine.fingerprint.in_(fingerprints))
        )
    )
    parents = _parents_by_name()
    added = []
    for credit, fingerprint in zip(credits, fingerprints, strict=True):
        if fingerprint in known:
            continue
        line = StatementLine(
            fingerprint=fingerprint,
            source=source[:60],
            booked_on=credit.booked_on,
            amount_centimes=credit.amount_centimes,
            payer_name=(credit.payer_name or "")[:140] or None,
            text=credit.text[:500],
            bank_reference=(credit.bank_reference or "")[:80] or None,
            status=StatementLineStatus.UNMATCHED,
            imported_by_id=actor.id,
        )
        _suggest(line, parents)
        db.session.add(line)
        known.add(fingerprint)
        added.append(line)
    db.session.flush()
    record(
        "statement.imported",
        actor=actor,
        source=source,
        added=len(added),
        already_there=len(credits) - len(added),
    )
    return ImportResult(added=added, already_there=len(credits) - len(added))


def _words(name: str | None) -> frozenset[str]:
    plain = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    return frozenset(w for w in re.split(r"[^a-z]+", plain.casefold()) if len(w) > 1)


def _parents_by_name() -> list[tuple[int, frozenset[str]]]:
    rows = db.session.execute(select(User.id, User.full_name).where(User.role == Role.PARENT))
    return [(user_id, _words(name)) for user_id, name in rows]


def _child_ids(payer_id: int) -> list[int]:
    return list(
        db.session.scalars(select(Guardianship.child_id).where(Guardianship.user_id == payer_id))
    )


def _suggest(line: StatementLine, parents: list[tuple[int, frozenset[str]]]) -> None:
    reading = find_reference(line.text, line.bank_reference)
    if reading is not None and db.session.get(User, reading[0]) is not None:
        line.payer_id, line.term_key = reading[0], reading[1].key
        line.match_basis = MatchBasis.REFERENCE
        line.status = StatementLineStatus.SUGGESTED
        return
    # The same amount as a family's balance for a term, from a payer of that name: only
    # when exactly one family and term fit.
    words = _words(line.payer_name) or _words(line.text)
    fits = []
    for payer_id, name in parents:
        if not name or not name <= words:
            continue
        for term, owed in owed_by_term(_child_ids(payer_id)).items():
            if owed == line.amount_centimes:
                fits.append((payer_id, term))
    if len(fits) == 1:
        line.payer_id, line.term_key = fits[0][0], fits[0][1].key
        line.match_basis = MatchBasis.AMOUNT_AND_NAME
        line.status = StatementLineStatus.SUGGESTED


def owed_by_term(child_ids: Sequence[int]) -> dict[Term, int]:
    """What these children's family still owes, per term (terms that owe nothing left out)."""
    owed: dict[Term, int] = defaultdict(int)
    for enrolment in owed_enrolments(child_ids):
        owed[term_of(enrolment.cohort.start_date)] += enrolment.balance_centimes
    return dict(owed)


@dataclass(frozen=True)
class OpenBalance:
    payer: User
    term: Term
    owed_centimes: int


def open_balances() -> list[OpenBalance]:
    """Every family and term that still owes money, by parent's name (to correct a match)."""
    parents = db.session.scalars(
        select(User).where(User.role == Role.PARENT).order_by(User.full_name, User.id)
    )
    balances = []
    for parent in parents:
        for term, owed in sorted(owed_by_term(_child_ids(parent.id)).items(), key=_by_start):
            balances.append(OpenBalance(parent, term, owed))
    return balances


def _by_start(item) -> date:
    return item[0].starts_on


# ---------------------------------------------------------------------------------------------
# A person decides


def _decide(line: StatementLine, status: str, actor: User, *, payer_id=None, term_key=None):
    """Move an undecided line to ``status``, once: a line decided already is refused."""
    moved = db.session.execute(
        update(StatementLine)
        .where(
            StatementLine.id == line.id,
            StatementLine.status.in_(
                (StatementLineStatus.UNMATCHED, StatementLineStatus.SUGGESTED)
            ),
        )
        .values(
            status=status,
            payer_id=payer_id,
            term_key=term_key,
            decided_at=utcnow(),
            decided_by_id=actor.id,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise DomainError(_l("This line was dealt with already."))
    db.session.refresh(line)


def confirm_line(line: StatementLine, *, actor: User, payer: User, term: Term) -> list:
    """A coordinator confirms that a statement line pays ``payer``'s fees for ``term``: the
    payments and receipts are booked, first enrolment first."""
    require_coordinator(actor)
    if not payer.role == Role.PARENT:
        raise DomainError(_l("Choose the family that paid."), field="family")
    owed = owed_enrolments(_child_ids(payer.id), term)
    if not owed:
        raise DomainError(
            _l("This family owes nothing for that term: choose another, or leave the line."),
            field="family",
        )
    _decide(line, StatementLineStatus.CONFIRMED, actor, payer_id=payer.id, term_key=term.key)
    payments = [
        book_payment(
            enrolment,
            amount_centimes=share,
            method=PaymentMethod.BANK_TRANSFER,
            paid_on=line.booked_on,
            reference=line.bank_reference or transfer_reference(payer.id, term),
            recorded_by=actor,
            statement_line_id=line.id,
        )
        for enrolment, share in allocate(line.amount_centimes, owed)
    ]
    record(
        "statement.confirmed",
        actor=actor,
        subject=line,
        payer_id=payer.id,
        term=term.key,
        amount_centimes=line.amount_centimes,
        payments=[p.id for p in payments],
    )
    return payments


def ignore_line(line: StatementLine, *, actor: User) -> StatementLine:
    """A coordinator sets aside a credit that pays no family's fees."""
    require_coordinator(actor)
    _decide(line, StatementLineStatus.IGNORED, actor)
    record("statement.ignored", actor=actor, subject=line, amount_centimes=line.amount_centimes)
    return line


def lines_to_decide() -> list[StatementLine]:
    """The lines nobody has confirmed or set aside, oldest first."""
    return list(
        db.session.scalars(
            select(StatementLine)
            .where(
                StatementLine.status.in_(
                    (StatementLineStatus.UNMATCHED, StatementLineStatus.SUGGESTED)
                )
            )
            .order_by(StatementLine.booked_on, StatementLine.id)
        )
    )


def recent_decisions(limit: int = 50) -> list[StatementLine]:
    return list(
        db.session.scalars(
            select(StatementLine)
            .where(
                StatementLine.status.in_(
                    (StatementLineStatus.CONFIRMED, StatementLineStatus.IGNORED)
                )
            )
            .order_by(StatementLine.decided_at.desc(), StatementLine.id.desc())
            .limit(limit)
        )
    )


def save_mapping(
    bank: str, *, actor: User, columns: dict[str, str | None], date_format: str
) -> BankCsvMapping:
    """Remember (or update) which columns of ``bank``'s CSV hold what."""
    require_coordinator(actor)
    bank = bank.strip()[:60]
    if not bank:
        raise DomainError(_l("Name the bank."), field="bank")
    mapping = db.session.scalar(select(BankCsvMapping).where(BankCsvMapping.bank == bank))
    if mapping is None:
        mapping = BankCsvMapping(bank=bank)
        db.session.add(mapping)
    mapping.date_column = columns["date"] or ""
    mapping.amount_column = columns["amount"] or ""
    mapping.text_column = columns["text"] or ""
    mapping.name_column = columns.get("name") or None
    mapping.reference_column = columns.get("reference") or None
    mapping.date_format = date_format
    db.session.flush()
    return mapping


def mappings() -> list[BankCsvMapping]:
    return list(db.session.scalars(select(BankCsvMapping).order_by(BankCsvMapping.bank)))


def term_named(key: str | None) -> Term | None:
    return term_by_key(key) if key else None
