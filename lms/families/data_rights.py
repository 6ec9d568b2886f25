"""Parents' data rights and the retention rules: export everything, erase a child or an
account, and purge what is kept past its time (`flask lms purge`)."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from flask import current_app
from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from lms.accounts.models import User, new_session_token
from lms.accounts.services import normalize_email
from lms.audit import services as audit
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families import hooks, photos
from lms.families.children import children_of
from lms.families.models import (
    AccountClosureNotice,
    Child,
    ConsentRecord,
    ContactKind,
    ContactPerson,
    GuardianInvitation,
    MedicalAccessLog,
    guardian_invitation_children,
)
from lms.families.permissions import require_guardian
from lms.notifications.models import OutboxMessage
from lms.notifications.services import queue_email_to_user
from lms.roles import Role
from lms.security import verify_password


def install() -> None:
    """Put the families' own parts first in the data export (idempotent; called by create_app)."""
    hooks.export_sections.register(_account_section)
    hooks.export_sections.register(_children_section)


# ---------------------------------------------------------------------------------------------
# Data export


def export_sections_for(user: User, children: Sequence[Child]) -> list[hooks.ExportSection]:
    """Every domain's part of the export, in registration order (families first)."""
    sections = []
    for provider in hooks.export_sections:
        section = provider(user, children)
        if section is not None:
            sections.append(section)
    return sections


def export_family(user: User, children: Sequence[Child] | None = None) -> dict:
    """Everything the system holds about the family (or about ``children``), as plain data."""
    if children is None:
        children = children_of(user, with_details=True)
    data = {
        "format": "activelabs-family-export",
        "version": 1,
        "generated_at": utcnow().isoformat(timespec="seconds"),
    }
    for section in export_sections_for(user, children):
        data[section.key] = section.data
    return data


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _account_section(user: User, children: Sequence[Child]) -> hooks.ExportSection:
    return hooks.ExportSection(
        key="account",
        title=_l("My account"),
        template="families/export/_account.html",
        data={
            "email": user.email,
            "full_name": user.full_name,
            "phone": user.phone,
            "language": user.locale,
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "privacy_notice_version": user.privacy_notice_version,
            "privacy_accepted_at": _iso(user.privacy_accepted_at),
            "invitations_sent": [
                {
                    "email": invitation.email,
                    "sent_at": _iso(invitation.created_at),
                    "accepted_at": _iso(invitation.accepted_at),
                    "cancelled_at": _iso(invitation.cancelled_at),
                }
                for invitation in db.session.scalars(
                    select(GuardianInvitation)
                    .where(GuardianInvitation.inviter_id == user.id)
                    .order_by(GuardianInvitation.id)
                )
            ],
        },
    )


def _person_data(person: ContactPerson) -> dict:
    return {
        "name": person.name,
        "relationship": person.relationship_to_child,
        "phone": person.phone,
    }


def _children_section(user: User, children: Sequence[Child]) -> hooks.ExportSection:
    ids = [child.id for child in children]
    logs: dict[int, list[MedicalAccessLog]] = {child_id: [] for child_id in ids}
    for entry in db.session.scalars(
        select(MedicalAccessLog)
        .where(MedicalAccessLog.child_id.in_(ids))
        .options(selectinload(MedicalAccessLog.staff))
        .order_by(MedicalAccessLog.accessed_at, MedicalAccessLog.id)
    ):
        logs[entry.child_id].append(entry)
    return hooks.ExportSection(
        key="children",
        title=_l("Children"),
        template="families/export/_children.html",
        data=[
            {
                "id": child.id,
                "first_name": child.first_name,
                "last_name": child.last_name,
                "first_name_ar": child.first_name_ar,
                "last_name_ar": child.last_name_ar,
                "date_of_birth": _iso(child.date_of_birth),
                "school_grade": child.school_grade,
                "may_leave_alone": child.may_leave_alone,
                "allergies": child.allergies,
                "medical_notes": child.medical_notes,
                # The photo itself is on the child's page and in the readable copy.
                "photo_on_register": child.has_photo,
                "guardians": [
                    {"full_name": guardian.full_name, "email": guardian.email}
                    for guardian in child.guardians
                ],
                "emergency_contacts": [_person_data(c) for c in child.emergency_contacts],
                "authorised_pickups": [_person_data(p) for p in child.authorised_pickups],
                "consents": [
                    {
                        "kind": record.kind,
                        "granted": record.granted,
                        "notice_version": record.notice_version,
                        "recorded_at": _iso(record.recorded_at),
                        "recorded_by": record.actor.full_name if record.actor else None,
                    }
                    for record in child.consent_records
                ],
                "medical_data_opened_by_staff": [
                    {
                        "staff": entry.staff.full_name if entry.staff else None,
                        "at": _iso(entry.accessed_at),
                        "what": entry.what,
                    }
                    for entry in logs[child.id]
                ],
            }
            for child in children
        ],
    )


# ---------------------------------------------------------------------------------------------
# Erasure


@dataclass
class ChildErasurePreview:
    """What erasing a child deletes, so that the parent sees it before confirming."""

    child: Child
    emergency_contacts: int
    authorised_pickups: int
    consent_records: int
    medical_access_logs: int
    has_health_data: bool
    other_guardians: list[User]
    from_other_domains: list = field(default_factory=list)


@dataclass
class AccountErasurePreview:
    """What erasing an account deletes: the account, the children only this parent manages,
    and this parent's access to the children another guardian keeps."""

    user: User
    children_erased: list[ChildErasurePreview]
    children_kept: list[tuple[Child, list[User]]]
    invitations: int
    from_other_domains: list = field(default_factory=list)


def child_erasure_preview(child: Child, *, actor: User | None = None) -> ChildErasurePreview:
    """List what erasing ``child`` would delete."""

    def count(model, *conditions) -> int:
        return db.session.scalar(
            select(func.count()).where(model.child_id == child.id, *conditions)
        )

    lines = []
    for erasure in hooks.child_erasures:
        lines.extend(erasure.describe(child))
    return ChildErasurePreview(
        child=child,
        emergency_contacts=count(ContactPerson, ContactPerson.kind == ContactKind.EMERGENCY),
        authorised_pickups=count(ContactPerson, ContactPerson.kind == ContactKind.PICKUP),
        consent_records=count(ConsentRecord),
        medical_access_logs=count(MedicalAccessLog),
        has_health_data=child.has_health_data,
        other_guardians=[g for g in child.guardians if actor is None or g.id != actor.id],
        from_other_domains=lines,
    )


def account_erasure_preview(user: User) -> AccountErasurePreview:
    """List what erasing ``user``'s account would delete and what it would leave to others."""
    erased, kept = [], []
    for child in children_of(user):
        others = [guardian for guardian in child.guardians if guardian.id != user.id]
        if others:
            kept.append((child, others))
        else:
            erased.append(child_erasure_preview(child, actor=user))
    lines = []
    for erasure in hooks.account_erasures:
        lines.extend(erasure.describe(user))
    invitations = db.session.scalar(
        select(func.count()).where(GuardianInvitation.inviter_id == user.id)
    )
    return AccountErasurePreview(
        user=user,
        children_erased=erased,
        children_kept=kept,
        invitations=invitations,
        from_other_domains=lines,
    )


def _check_password(user: User, password: str) -> None:
    if not verify_password(user.password_hash, password or ""):
        raise DomainError(_l("Your password is not correct."), field="password")


def _forget_messages(recipients: Iterable[str], *, mentioning: Iterable[str] | None) -> int:
    """Delete the outbox's copies of e-mails to ``recipients`` (all of them, or only those that
    mention one of the words in ``mentioning``)."""
    recipients = {normalize_email(r) for r in recipients if r}
    if not recipients:
        return 0
    messages = db.session.scalars(
        select(OutboxMessage).where(func.lower(OutboxMessage.recipient).in_(recipients))
    ).all()
    needles = [n.casefold() for n in (mentioning or []) if n]
    doomed = [
        message
        for message in messages
        if mentioning is None
        or any(n in f"{message.subject}\n{message.body}".casefold() for n in needles)
    ]
    for message in doomed:
        db.session.delete(message)
    return len(doomed)


def _erase_child(child: Child) -> None:
    for erasure in hooks.child_erasures:
        erasure.erase(child)
    invitations = list(
        db.session.scalars(
            select(GuardianInvitation)
            .join(guardian_invitation_children)
            .where(guardian_invitation_children.c.child_id == child.id)
        )
    )
    names = [child.first_name, child.full_name, child.first_name_ar, child.full_name_ar]
    _forget_messages(
        [guardian.email for guardian in child.guardians]
        + [invitation.email for invitation in invitations],
        mentioning=names,
    )
    for invitation in invitations:
        invitation.children.remove(child)
        if not invitation.children:
            db.session.delete(invitation)
    db.session.execute(delete(MedicalAccessLog).where(MedicalAccessLog.child_id == child.id))
    child.guardianships.clear()
    child.contact_people.clear()
    child.consent_records.clear()
    # The row stays, without anything that identifies the child: attendance counts and issued
    # certificates point at it, and certificate verification reads ``erased_at``.
    child.first_name = "—"
    child.last_name = "—"
    child.first_name_ar = child.last_name_ar = None
    child.date_of_birth = None
    child.school_grade = None
    child.allergies = child.medical_notes = None
    photos.discard(child.photo_image, db.session())  # the file goes with the commit
    child.photo_image = None
    child.may_leave_alone = False
    child.erased_at = utcnow()
    db.session.flush()


def erase_child(child: Child, *, actor: User, password: str) -> None:
    """A guardian erases a child's data at once (password re-entered); the row stays anonymous."""
    require_guardian(actor, child)
    _check_password(actor, password)
    _erase_child(child)
    audit.record("family.child_erased", actor=actor, subject=child)


def _erase_account(user: User) -> None:
    children = children_of(user)
    # E-mails to the rest of the family that name this parent go too (invitations, notices).
    family = {g.email for child in children for g in child.guardians if g.id != user.id}
    for child in children:
        if any(guardian.id != user.id for guardian in child.guardians):
            child.guardianships[:] = [g for g in child.guardianships if g.user_id != user.id]
        else:
            _erase_child(child)
    for erasure in hooks.account_erasures:
        erasure.erase(user)
    for invitation in db.session.scalars(
        select(GuardianInvitation).where(GuardianInvitation.inviter_id == user.id)
    ):
        family.add(invitation.email)
        db.session.delete(invitation)
    db.session.execute(delete(GuardianInvitation).where(GuardianInvitation.email == user.email))
    db.session.execute(
        update(GuardianInvitation)
        .where(GuardianInvitation.accepted_by_id == user.id)
        .values(accepted_by_id=None)
    )
    db.session.execute(
        update(ConsentRecord).where(ConsentRecord.actor_id == user.id).values(actor_id=None)
    )
    db.session.execute(delete(AccountClosureNotice).where(AccountClosureNotice.user_id == user.id))
    _forget_messages([user.email], mentioning=None)
    _forget_messages(family, mentioning=[user.full_name, user.email])
    # The accounts domain has no notion of erasure; the row stays (others may point at it) but
    # says nothing about the person, and can never log in again.
    user.email = f"erased-{user.id}@erased.invalid"
    user.full_name = "—"
    user.phone = None
    user.password_hash = None
    user.session_token = new_session_token()
    user.active = False
    user.privacy_notice_version = None
    user.privacy_accepted_at = None
    user.last_login_at = None
    user.password_changed_at = None
    db.session.flush()


def erase_account(user: User, *, password: str) -> None:
    """A parent erases their account (password re-entered): their children are erased too,
    except those another guardian keeps."""
    if not user.is_parent:
        raise DomainError(_l("Staff accounts are closed by a coordinator."))
    _check_password(user, password)
    children = [child.id for child in children_of(user)]
    _erase_account(user)
    audit.record("family.account_erased", actor=user, subject=user, children=children)


# ---------------------------------------------------------------------------------------------
# Retention

_Day = TypeVar("_Day", date, datetime)


def months_before(moment: _Day, months: int) -> _Day:
    """The same day ``months`` calendar months earlier (the 31st may become the 30th...)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass
class PurgeReport:
    safeguarding_erased: list[int] = field(default_factory=list)  # child ids
    notices_sent: list[int] = field(default_factory=list)  # user ids
    notices_withdrawn: list[int] = field(default_factory=list)
    accounts_closed: list[int] = field(default_factory=list)
    accounts_refused: list[tuple[int, str]] = field(default_factory=list)
    # What the higher domains' retention rules deleted: {"incidents": 3}.
    deleted: dict[str, int] = field(default_factory=dict)

    @property
    def did_nothing(self) -> bool:
        return not any(
            (
                any(self.deleted.values()),
                self.safeguarding_erased,
                self.notices_sent,
                self.notices_withdrawn,
                self.accounts_closed,
                self.accounts_refused,
            )
        )


def erase_safeguarding_data(child: Child) -> None:
    """Erase medical notes, emergency contacts, pickup list and the photo on the register (the
    retention period is over)."""
    child.allergies = None
    child.medical_notes = None
    child.contact_people.clear()
    photos.discard(child.photo_image, db.session())  # the file goes with the commit
    child.photo_image = None
    db.session.flush()


def _purge_safeguarding(now: datetime, report: PurgeReport) -> None:
    months = current_app.config["RETENTION_MONTHS_AFTER_LAST_COHORT"]
    today = now.astimezone(get_timezone()).date()
    cutoff = months_before(today, months)
    ended: dict[int, date] = {}
    for provider in hooks.last_cohort_ends:
        for child_id, day in provider().items():
            ended[child_id] = max(day, ended.get(child_id, day))
    due = [child_id for child_id, day in ended.items() if day <= cutoff]
    if not due:
        return
    has_data = or_(
        Child.allergies.is_not(None),
        Child.medical_notes.is_not(None),
        Child.photo_image.is_not(None),
        Child.contact_people.any(),
    )
    children = db.session.scalars(
        select(Child)
        .where(Child.id.in_(due), Child.erased_at.is_(None), has_data)
        .order_by(Child.id)
    )
    for child in children:
        erase_safeguarding_data(child)
        audit.record("family.safeguarding_purged", actor=None, subject=child)
        report.safeguarding_erased.append(child.id)


def _purge_accounts(now: datetime, report: PurgeReport) -> None:
    config = current_app.config
    cutoff = months_before(now, config["INACTIVE_ACCOUNT_MONTHS"])
    last_seen = func.coalesce(User.last_login_at, User.created_at)
    notices = {}
    for notice, user in db.session.execute(
        select(AccountClosureNotice, User).join(User, User.id == AccountClosureNotice.user_id)
    ):
        if user.last_login_at is not None and user.last_login_at > notice.sent_at:
            # Someone who logged in after the notice keeps the account.
            db.session.delete(notice)
            report.notices_withdrawn.append(user.id)
        else:
            notices[user.id] = notice
    inactive = db.session.scalars(
        select(User)
        .where(User.role == Role.PARENT, User.active.is_(True), last_seen < cutoff)
        .order_by(User.id)
    )
    for user in inactive:
        notice = notices.get(user.id)
        if notice is None:
            closes_at = now + timedelta(days=config["ACCOUNT_CLOSURE_NOTICE_DAYS"])
            db.session.add(AccountClosureNotice(user_id=user.id, sent_at=now, closes_at=closes_at))
            queue_email_to_user(user, "account_closure_notice", closes_at=closes_at)
            report.notices_sent.append(user.id)
        elif notice.closes_at <= now:
            try:
                with db.session.begin_nested():
                    _erase_account(user)
            except DomainError as error:
                report.accounts_refused.append((user.id, str(error.message)))
            else:
                audit.record("family.account_purged", actor=None, subject=user)
                report.accounts_closed.append(user.id)
    db.session.flush()


def purge(*, now: datetime | None = None) -> PurgeReport:
    """Apply the retention rules (idempotent): safeguarding data some months after a child's
    last cohort ended; parent accounts unused for years, after an e-mail notice; then the
    higher domains' rules (hooks.retention_purges)."""
    now = now or utcnow()
    report = PurgeReport()
    _purge_safeguarding(now, report)
    _purge_accounts(now, report)
    for rule in hooks.retention_purges:
        for what, count in rule(now).items():
            report.deleted[what] = report.deleted.get(what, 0) + count
    return report
