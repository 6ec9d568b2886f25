"""The tables behind each export, in the reader's language (lms/exports.py writes the files).

Each function returns the rows, the header first. Dates are ISO (sortable in any
spreadsheet); amounts are dirhams as numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.models import User
from lms.certificates.models import Certificate, CertificateStatus
from lms.clock import lab_zone
from lms.courses.models import PUBLIC_COHORT_STATUSES, Cohort
from lms.courses.terms import Term
from lms.enrolment.models import (
    SEAT_STATUSES,
    Enrolment,
    EnrolmentStatus,
    Payment,
    PaymentMethod,
)
from lms.extensions import db
from lms.families.children import log_medical_access
from lms.families.models import Child, ConsentKind, Guardianship
from lms.money import dirhams
from lms.phones import format_phone
from lms.reports.permissions import can_read_medical_notes_in_exports
from lms.roles import Role

KINDS = ("families", "enrolments", "waiting-lists", "certificates", "payments")


@dataclass(frozen=True)
class Scope:
    """What an export covers: one cohort, or every cohort that starts in a term."""

    term: Term
    cohort: Cohort | None = None

    def cohort_ids(self):
        if self.cohort is not None:
            return select(Cohort.id).where(Cohort.id == self.cohort.id)
        return select(Cohort.id).where(
            Cohort.starting_in(self.term),
            Cohort.status.in_(PUBLIC_COHORT_STATUSES),
        )

    @property
    def filters(self) -> dict:
        """For the audit log."""
        if self.cohort is not None:
            return {"cohort_id": self.cohort.id}
        return {"term": self.term.key}


def _yes(value: bool) -> str:
    return _("Yes") if value else _("No")


def _iso(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "astimezone"):
        return value.astimezone(lab_zone()).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _mad(centimes: int) -> float:
    return float(dirhams(centimes))


def _cohort_name(cohort: Cohort, language: str) -> tuple[str, str]:
    return cohort.course.title(language), cohort.start_date.isoformat()


def _people(people) -> str:
    return " / ".join(
        f"{person.name} ({person.relationship_to_child}) {format_phone(person.phone)}"
        for person in people
    )


# ---------------------------------------------------------------------------------------------
# A cohort's roster, for the instructors' printouts


def roster_rows(cohort: Cohort, *, viewer: User, language: str) -> list[list]:
    """The children enrolled in the cohort with whom to call and who may collect them. Allergy
    and medical notes are written out for coordinators only (and their reading is logged)."""
    medical = can_read_medical_notes_in_exports(viewer)
    header = [_("Child"), _("Name in Arabic"), _("Age"), _("Photos allowed"), _("Allergies")]
    if medical:
        header.append(_("Medical notes"))
    header += [
        _("May leave alone"),
        _("Parents"),
        _("Emergency contacts"),
        _("Authorised to collect"),
    ]
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .options(
            *(
                joinedload(Enrolment.child).selectinload(relation)
                for relation in (
                    Child.guardianships,
                    Child.contact_people,
                    Child.consent_records,
                )
            )
        )
        .order_by(Enrolment.id)
    ).all()
    children = sorted((e.child for e in enrolments), key=lambda c: (c.last_name, c.first_name))
    rows = [header]
    for child in children:
        line = [
            child.full_name,
            child.full_name_ar or "",
            child.age_in_years(cohort.start_date) or "",
            _yes(child.has_consent(ConsentKind.PHOTO)),
        ]
        if medical:
            line += [child.allergies or "", child.medical_notes or ""]
            if child.has_health_data:
                log_medical_access(child, staff=viewer)
        else:
            line.append(_yes(bool(child.allergies)))
        line += [
            _yes(child.may_leave_alone),
            " / ".join(
                f"{g.full_name} {format_phone(g.phone) if g.phone else g.email}"
                for g in child.guardians
            ),
            _people(child.emergency_contacts),
            _people(child.authorised_pickups),
        ]
        rows.append(line)
    return rows


# ---------------------------------------------------------------------------------------------
# Office files (coordinators)


def family_rows(scope: Scope, *, language: str) -> list[list]:
    """One line per parent of a child holding a seat: how to reach them, and for whom."""
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id.in_(scope.cohort_ids()), Enrolment.status.in_(SEAT_STATUSES))
        .options(
            joinedload(Enrolment.child)
            .selectinload(Child.guardianships)
            .joinedload(Guardianship.user),
            joinedload(Enrolment.cohort).joinedload(Cohort.course),
        )
        .order_by(Enrolment.id)
    ).all()
    parents: dict[int, User] = {}
    children: dict[int, list[str]] = defaultdict(list)
    courses: dict[int, list[str]] = defaultdict(list)
    for enrolment in enrolments:
        for guardian in enrolment.child.guardians:
            if guardian.role != Role.PARENT or not guardian.active:
                continue
            parents[guardian.id] = guardian
            if enrolment.child.first_name not in children[guardian.id]:
                children[guardian.id].append(enrolment.child.first_name)
            title = enrolment.cohort.course.title(language)
            if title not in courses[guardian.id]:
                courses[guardian.id].append(title)
    rows = [[_("Parent"), _("E-mail"), _("Phone"), _("Language"), _("Children"), _("Courses")]]
    for parent in sorted(parents.values(), key=lambda user: user.full_name):
        rows.append(
            [
                parent.full_name,
                parent.email,
                format_phone(parent.phone) if parent.phone else "",
                parent.locale,
                ", ".join(children[parent.id]),
                ", ".join(courses[parent.id]),
            ]
        )
    return rows


def _enrolments(scope: Scope, statuses=None) -> list[Enrolment]:
    query = (
        select(Enrolment)
        .where(Enrolment.cohort_id.in_(scope.cohort_ids()))
        .options(
            joinedload(Enrolment.child),
            joinedload(Enrolment.cohort).joinedload(Cohort.course),
            selectinload(Enrolment.payments),
        )
        .order_by(Enrolment.cohort_id, Enrolment.id)
    )
    if statuses is not None:
        query = query.where(Enrolment.status.in_(statuses))
    return list(db.session.scalars(query))


def enrolment_rows(scope: Scope, *, language: str) -> list[list]:
    """Every place of the cohorts, whatever its status, with its fee and payments."""
    rows = [
        [
            _("Child"),
            _("Course"),
            _("Cohort start"),
            _("Status"),
            _("Requested on"),
            _("Enrolled on"),
            _("Ended on"),
            _("Fee (MAD)"),
            _("Discount (MAD)"),
            _("Waiver (MAD)"),
            _("Due (MAD)"),
            _("Paid (MAD)"),
            _("Balance (MAD)"),
        ]
    ]
    for enrolment in _enrolments(scope):
        due = enrolment.amount_due_centimes
        if enrolment.status == EnrolmentStatus.OFFERED and not enrolment.payments:
            due = 0  # a seat offered is owed once accepted
        rows.append(
            [
                enrolment.child.full_name,
                *_cohort_name(enrolment.cohort, language),
                str(EnrolmentStatus(enrolment.status).label),
                _iso(enrolment.created_at),
                _iso(enrolment.enrolled_at),
                _iso(enrolment.ended_at),
                _mad(enrolment.fee_centimes),
                _mad(enrolment.discount_centimes),
                _mad(enrolment.waiver_centimes),
                _mad(due),
                _mad(enrolment.paid_centimes),
                _mad(due - enrolment.paid_centimes),
            ]
        )
    return rows


def waiting_list_rows(scope: Scope, *, language: str) -> list[list]:
    """The waiting lists in order, and the seats offered with their deadline."""
    rows = [
        [
            _("Course"),
            _("Cohort start"),
            _("Position"),
            _("Child"),
            _("Status"),
            _("Waiting since"),
            _("Offer expires"),
        ]
    ]
    position: dict[int, int] = defaultdict(int)
    enrolments = _enrolments(scope, (EnrolmentStatus.OFFERED, EnrolmentStatus.WAITLISTED))
    for enrolment in sorted(enrolments, key=lambda e: (e.cohort_id, e.status != "offered", e.id)):
        place = ""
        if enrolment.status == EnrolmentStatus.WAITLISTED:
            position[enrolment.cohort_id] += 1
            place = position[enrolment.cohort_id]
        rows.append(
            [
                *_cohort_name(enrolment.cohort, language),
                place,
                enrolment.child.full_name,
                str(EnrolmentStatus(enrolment.status).label),
                _iso(enrolment.created_at),
                _iso(enrolment.offer_expires_at),
            ]
        )
    return rows


def certificate_rows(scope: Scope, *, language: str) -> list[list]:
    """Certificates of the cohorts: code, holder, status."""
    rows = [
        [
            _("Code"),
            _("Child"),
            _("Course"),
            _("Cohort start"),
            _("Status"),
            _("Issued on"),
            _("Revoked on"),
        ]
    ]
    for certificate in db.session.scalars(
        select(Certificate)
        .where(Certificate.cohort_id.in_(scope.cohort_ids()))
        .options(joinedload(Certificate.cohort).joinedload(Cohort.course))
        .order_by(Certificate.issued_at, Certificate.id)
    ):
        rows.append(
            [
                certificate.code,
                certificate.data.get("child_name", ""),
                *_cohort_name(certificate.cohort, language),
                str(CertificateStatus(certificate.status).label),
                _iso(certificate.issued_at),
                _iso(certificate.revoked_at),
            ]
        )
    return rows


def payment_rows(scope: Scope, *, language: str) -> list[list]:
    """Payments received for the cohorts' places, with their receipt numbers."""
    rows = [
        [
            _("Receipt"),
            _("Paid on"),
            _("Amount (MAD)"),
            _("Method"),
            _("Reference"),
            _("Child"),
            _("Course"),
            _("Cohort start"),
            _("Recorded by"),
        ]
    ]
    for payment in db.session.scalars(
        select(Payment)
        .join(Enrolment, Enrolment.id == Payment.enrolment_id)
        .where(Enrolment.cohort_id.in_(scope.cohort_ids()))
        .options(
            joinedload(Payment.enrolment).joinedload(Enrolment.child),
            joinedload(Payment.enrolment).joinedload(Enrolment.cohort).joinedload(Cohort.course),
            joinedload(Payment.recorded_by),
        )
        .order_by(Payment.paid_on, Payment.id)
    ):
        rows.append(
            [
                payment.receipt_number,
                payment.paid_on.isoformat(),
                _mad(payment.amount_centimes),
                str(PaymentMethod.labels().get(payment.method, payment.method)),
                payment.reference or "",
                payment.enrolment.child.full_name,
                *_cohort_name(payment.enrolment.cohort, language),
                payment.recorded_by.full_name if payment.recorded_by else "",
            ]
        )
    return rows


OFFICE_EXPORTS = {
    "families": family_rows,
    "enrolments": enrolment_rows,
    "waiting-lists": waiting_list_rows,
    "certificates": certificate_rows,
    "payments": payment_rows,
}
