"""What families needs to know from higher domains, which fill these hooks when the app starts.

Families sits below courses, enrolment, attendance and certificates and never imports them.
When it needs something only they know (who teaches a child and when, when a child's last
cohort ended), or when they must take part in something families does (a data export, an
erasure), they register a function here, in their ``wiring.install()`` (called by
``create_app``), e.g. in ``lms/enrolment/wiring.py``::

    families_hooks.teaching_periods.register(teaching_periods)

Families registers its own parts of the export first (``data_rights.install()``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from lms.hooks import Hook, PageSection

if TYPE_CHECKING:
    from lms.accounts.models import User
    from lms.families.models import Child


# ---------------------------------------------------------------------------------------------
# Who teaches a child, and when


@dataclass(frozen=True)
class TeachingPeriod:
    """An instructor teaches a child from ``start`` (the enrolment) to ``cohort_end``."""

    start: date
    cohort_end: date


# (instructor, child) -> the periods during which the instructor teaches the child.
teaching_periods: Hook[Callable[[User, Child], Sequence[TeachingPeriod]]] = Hook("teaching_periods")

# (instructor, child, day) -> True when a higher domain lets ``instructor`` read the child's
# safeguarding data on local ``day`` without teaching the child's cohort (a substitute on the
# days of the assignment). No grace period is added: the access ends with the day.
safeguarding_grants: Hook[Callable[[User, Child, date], bool]] = Hook("safeguarding_grants")

# () -> {child id: the day the child's last cohort ended}, for children who have finished
# every cohort they were enrolled in (a child still enrolled somewhere is left out).
# With nothing registered, no child has finished: the purge keeps every medical note.
last_cohort_ends: Hook[Callable[[], Mapping[int, date]]] = Hook("last_cohort_ends")


# (now) -> {what was deleted: how many}: the retention rules of the higher domains, applied by
# `flask lms purge` and the worker after families' own (incidents, for one). Idempotent.
retention_purges: Hook[Callable[[datetime], Mapping[str, int]]] = Hook("retention_purges")


# ---------------------------------------------------------------------------------------------
# Data export


@dataclass
class ExportSection:
    """One part of a family's data export.

    ``data`` is what goes into the JSON file under ``key`` (plain values only: str, int, float,
    bool, None, lists and dicts). ``title`` heads the section on the readable page; ``labels``
    translate the keys of ``data`` for that page; ``template``, if given, renders the section
    there instead of the generic table (it receives ``section``).
    """

    key: str
    title: Any
    data: Any
    labels: Mapping[str, Any] = field(default_factory=dict)
    template: str | None = None


# (guardian, children the export covers) -> a section, or None to add nothing.
export_sections: Hook[Callable[[User, Sequence[Child]], ExportSection | None]] = Hook(
    "export_sections"
)


# ---------------------------------------------------------------------------------------------
# Erasure


@dataclass(frozen=True)
class Erasure:
    """How a domain takes part in erasing a child or an account.

    ``describe`` says, in sentences a parent understands, what will happen to that domain's
    records (shown before the parent confirms); ``erase`` deletes or anonymises them, in the
    same transaction, before families anonymises the child or the account itself. ``erase``
    may raise a DomainError to refuse (nothing is then erased).
    """

    describe: Callable[[Any], list[Any]]
    erase: Callable[[Any], None]


child_erasures: Hook[Erasure] = Hook("child_erasures")  # called with the Child
account_erasures: Hook[Erasure] = Hook("account_erasures")  # called with the User


# ---------------------------------------------------------------------------------------------
# Pages


# (child, viewer) -> a section of the child's page (enrolment: the child's groups), or None.
child_page_sections: Hook[Callable[[Child, User], PageSection | None]] = Hook("child_page_sections")
