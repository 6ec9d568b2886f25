"""The enrolment domain's answers to the hooks of the domains below it (courses, families).

``install()`` runs when the package is imported; it is idempotent, so tests that reset a
provider can put the real answers back.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.courses import hooks as courses_hooks
from lms.courses.models import Cohort
from lms.enrolment import leaving, notices, queries, seats
from lms.enrolment.models import ACTIVE_STATUSES, Enrolment, EnrolmentStatus, Payment, PaymentMethod
from lms.extensions import db
from lms.families import hooks as families_hooks
from lms.families.models import Child
from lms.money import dirhams


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _money(centimes: int) -> str:
    return f"{dirhams(centimes):.2f}"


# ---------------------------------------------------------------------------------------------
# Courses


def cohort_recipients(cohort: Cohort) -> list[User]:
    """Lesson changes and cancellations go to the parents of the children holding a seat."""
    return queries.seat_holders_guardians(cohort)


def cohort_children_names(cohort: Cohort) -> dict[int, list[str]]:
    """The short texts about a group name each family's children in it."""
    return queries.seat_holders_names(cohort)


def family_cohort_ids(user: User) -> list[int]:
    """A parent's private calendar holds the groups their children are enrolled in."""
    return queries.family_cohort_ids(user)


def enrol_action(cohort: Cohort, user) -> list[courses_hooks.Action]:
    """An "Enrol" button on the catalogue card for parents, while the window is open."""
    if not (user.is_authenticated and user.is_parent and cohort.enrolment_is_open()):
        return []
    label = _l("Enrol") if cohort.seats_left else _l("Join the waiting list")
    return [
        courses_hooks.Action(
            label=label, url=url_for("enrolment.enrol", cohort_id=cohort.id), primary=True
        )
    ]


def cohort_page_section(cohort: Cohort) -> families_hooks.PageSection:
    """The coordinators' cohort page: seats, waiting list, offers, and the way to the roster."""
    counts = dict(
        db.session.execute(
            select(Enrolment.status, func.count())
            .where(Enrolment.cohort_id == cohort.id)
            .group_by(Enrolment.status)
        ).all()
    )
    return families_hooks.PageSection(
        "enrolment/_cohort_section.html", {"cohort": cohort, "counts": counts}
    )


def capacity_changed(cohort: Cohort, old: int, new: int, actor) -> None:
    leaving.capacity_changed(cohort, old, new, actor)


def cohort_cancelled(cohort: Cohort, actor) -> None:
    leaving.cohort_cancelled(cohort, actor)


# ---------------------------------------------------------------------------------------------
# Families


def teaching_periods(instructor: User, child: Child) -> list[families_hooks.TeachingPeriod]:
    """An instructor teaches a child from the enrolment to the end of the group."""
    return [
        families_hooks.TeachingPeriod(start=start, cohort_end=end)
        for start, end in queries.teaching_spans(instructor, child)
    ]


def last_cohort_ends() -> dict:
    return queries.last_cohort_ends()


# The column headings of the family's data export, by key of each exported row (not an enum).
ENROLMENT_COLUMNS = {
    "id": _l("Number"),
    "child": _l("Child"),
    "course": _l("Course"),
    "group_start": _l("First day"),
    "group_end": _l("Last day"),
    "status": _l("Status"),
    "joined_at": _l("Asked on"),
    "enrolled_at": _l("Enrolled on"),
    "ended_at": _l("Ended on"),
    "fee_mad": _l("Price (MAD)"),
    "discount_mad": _l("Sibling discount (MAD)"),
    "waiver_mad": _l("Fee waived (MAD)"),
    "paid_mad": _l("Paid (MAD)"),
}

PAYMENT_COLUMNS = {
    "receipt_number": _l("Receipt"),
    "enrolment": _l("Enrolment"),
    "paid_on": _l("Paid on"),
    "amount_mad": _l("Amount (MAD)"),
    "method": _l("Method"),
    "reference": _l("Reference"),
}


def export_enrolments(user: User, children: Sequence[Child]) -> families_hooks.ExportSection | None:
    """The family's enrolments, in the data export (nothing when there are none)."""
    names = {child.id: child.full_name for child in children}
    enrolments = queries.family_enrolments(children)
    if not enrolments:
        return None
    return families_hooks.ExportSection(
        key="enrolments",
        title=_l("Enrolments"),
        labels=ENROLMENT_COLUMNS,
        template="enrolment/_export.html",
        data=[
            {
                "id": e.id,
                "child": names.get(e.child_id),
                "course": e.cohort.course.title_fr,
                "group_start": _iso(e.cohort.start_date),
                "group_end": _iso(e.cohort.end_date),
                "status": str(EnrolmentStatus(e.status).label),
                "joined_at": _iso(e.created_at),
                "enrolled_at": _iso(e.enrolled_at),
                "ended_at": _iso(e.ended_at),
                "fee_mad": _money(e.fee_centimes),
                "discount_mad": _money(e.discount_centimes),
                "waiver_mad": _money(e.waiver_centimes),
                "paid_mad": _money(e.paid_centimes),
            }
            for e in enrolments
        ],
    )


def export_payments(user: User, children: Sequence[Child]) -> families_hooks.ExportSection | None:
    """The family's payments, in the data export (nothing when there are none)."""
    ids = [child.id for child in children]
    if not ids:
        return None
    payments = db.session.scalars(
        select(Payment)
        .join(Enrolment, Enrolment.id == Payment.enrolment_id)
        .where(Enrolment.child_id.in_(ids))
        .order_by(Payment.paid_on, Payment.id)
    ).all()
    if not payments:
        return None
    return families_hooks.ExportSection(
        key="payments",
        title=_l("Payments"),
        labels=PAYMENT_COLUMNS,
        template="enrolment/_export.html",
        data=[
            {
                "receipt_number": p.receipt_number,
                "enrolment": p.enrolment_id,
                "paid_on": _iso(p.paid_on),
                "amount_mad": _money(p.amount_centimes),
                "method": str(PaymentMethod(p.method).label),
                "reference": p.reference,
            }
            for p in payments
        ],
    )


def _describe_erasure(child: Child) -> list:
    total, active = db.session.execute(
        select(
            func.count(),
            func.count().filter(Enrolment.status.in_(ACTIVE_STATUSES)),
        ).where(Enrolment.child_id == child.id)
    ).one()
    lines = []
    if active:
        lines.append(
            ngettext(
                "%(name)s leaves %(num)d group or waiting list; the seat goes to the next child "
                "waiting.",
                "%(name)s leaves %(num)d groups or waiting lists; the seats go to the next "
                "children waiting.",
                active,
                name=child.first_name,
            )
        )
    if total:
        lines.append(
            _l(
                "The enrolments and payments stay in the lab's accounts, without %(name)s's name.",
                name=child.first_name,
            )
        )
    return lines


child_erasure = families_hooks.Erasure(
    describe=_describe_erasure, erase=leaving.erase_child_enrolments
)


def child_page_section(child: Child, viewer: User) -> families_hooks.PageSection:
    """The child's page: the groups, waiting places and offers, with a way to enrol."""
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.child_id == child.id)
        .options(joinedload(Enrolment.cohort).joinedload(Cohort.course))
        .order_by(Enrolment.id.desc())
    ).all()
    return families_hooks.PageSection(
        "enrolment/_child_section.html",
        {
            "child": child,
            "enrolments": enrolments,
            "positions": seats.waiting_positions(enrolments),
        },
    )


# ---------------------------------------------------------------------------------------------


def install() -> None:
    """Register every answer (idempotent)."""
    notices.install()
    courses_hooks.cohort_recipients.provide(cohort_recipients)
    courses_hooks.cohort_children_names.provide(cohort_children_names)
    courses_hooks.family_cohort_ids.provide(family_cohort_ids)
    courses_hooks.cohort_card_actions.register(enrol_action)
    courses_hooks.cohort_page_sections.register(cohort_page_section)
    courses_hooks.capacity_changed.register(capacity_changed)
    courses_hooks.cohort_cancelled.register(cohort_cancelled)
    families_hooks.teaching_periods.register(teaching_periods)
    families_hooks.last_cohort_ends.register(last_cohort_ends)
    families_hooks.export_sections.register(export_enrolments)
    families_hooks.export_sections.register(export_payments)
    families_hooks.child_erasures.register(child_erasure)
    families_hooks.child_page_sections.register(child_page_section)
