"""Family rules: children, safeguarding data, consents, co-parents, data rights, retention."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from flask import current_app
from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from lms.accounts.models import User, new_session_token
from lms.accounts.services import find_user_by_email, normalize_email
from lms.audit import services as audit
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families import hooks
from lms.families.models import (
    AccountClosureNotice,
    AuthorisedPickup,
    Child,
    ConsentKind,
    ConsentRecord,
    EmergencyContact,
    GuardianInvitation,
    Guardianship,
    MedicalAccessLog,
    age_in_years,
    guardian_invitation_children,
    local_today,
)
from lms.families.permissions import can_manage_child, is_guardian, medical_access_is_logged
from lms.notifications.models import OutboxMessage
from lms.notifications.services import queue_email, queue_email_to_user
from lms.phones import normalize_phone
from lms.roles import Role
from lms.security import verify_password


class InvalidInvitation(DomainError):
    pass


@dataclass(frozen=True)
class Person:
    """Someone to call or who may collect a child: an emergency contact or a pickup person."""

    name: str
    relationship: str
    phone: str


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _require_guardian(actor: User, child: Child) -> None:
    if not can_manage_child(actor, child):
        raise DomainError(_l("Only the child's guardians can do this."))


def _lock(child: Child) -> None:
    """Serialise changes to one child's guardians and contacts (a no-op on SQLite, whose
    write transactions are already serialised by BEGIN IMMEDIATE)."""
    db.session.execute(select(Child.id).where(Child.id == child.id).with_for_update())


# ---------------------------------------------------------------------------------------------
# Children


def check_date_of_birth(date_of_birth: date, *, today: date | None = None) -> None:
    """Refuse a date of birth in the future or outside the programme's ages."""
    today = today or local_today()
    config = current_app.config
    if date_of_birth > today:
        raise DomainError(_l("The date of birth cannot be in the future."), field="date_of_birth")
    age = age_in_years(date_of_birth, today)
    if not config["CHILD_MIN_AGE"] <= age <= config["CHILD_MAX_AGE"]:
        raise DomainError(
            _l(
                "Our workshops are for children aged %(min)d to %(max)d: check the date of "
                "birth (this child would be %(age)d).",
                min=config["CHILD_MIN_AGE"],
                max=config["CHILD_MAX_AGE"],
                age=age,
            ),
            field="date_of_birth",
        )


def _set_identity(
    child: Child,
    *,
    first_name: str,
    last_name: str,
    first_name_ar: str | None,
    last_name_ar: str | None,
    date_of_birth: date,
    school_grade: str | None,
    may_leave_alone: bool,
) -> None:
    first_name, last_name = _clean(first_name), _clean(last_name)
    if not first_name:
        raise DomainError(_l("This field is required."), field="first_name")
    if not last_name:
        raise DomainError(_l("This field is required."), field="last_name")
    check_date_of_birth(date_of_birth)
    child.first_name = first_name
    child.last_name = last_name
    child.first_name_ar = _clean(first_name_ar)
    child.last_name_ar = _clean(last_name_ar)
    child.date_of_birth = date_of_birth
    child.school_grade = _clean(school_grade)
    child.may_leave_alone = may_leave_alone


def _person(person: Person) -> tuple[str, str, str]:
    name, relationship = _clean(person.name), _clean(person.relationship)
    if not name:
        raise DomainError(_l("This field is required."), field="name")
    if not relationship:
        raise DomainError(_l("This field is required."), field="relationship")
    try:
        phone = normalize_phone(person.phone or "")
    except ValueError:
        raise DomainError(
            _l("Enter a valid phone number, for example 06 12 34 56 78 or +212 6 12 34 56 78."),
            field="phone",
        ) from None
    return name, relationship, phone


def add_child(
    actor: User,
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    emergency_contact: Person | None,
    first_name_ar: str | None = None,
    last_name_ar: str | None = None,
    school_grade: str | None = None,
    may_leave_alone: bool = False,
) -> Child:
    """A parent describes a child, with the first emergency contact; they become its guardian."""
    if not actor.is_parent:
        raise DomainError(_l("Only parent accounts can add children."))
    if emergency_contact is None:
        raise DomainError(
            _l("Give at least one emergency contact: who should we call if something happens?"),
            field="emergency_name",
        )
    child = Child()
    _set_identity(
        child,
        first_name=first_name,
        last_name=last_name,
        first_name_ar=first_name_ar,
        last_name_ar=last_name_ar,
        date_of_birth=date_of_birth,
        school_grade=school_grade,
        may_leave_alone=may_leave_alone,
    )
    try:
        name, relationship, phone = _person(emergency_contact)
    except DomainError as error:
        raise DomainError(error.message, field=f"emergency_{error.field}") from None
    child.guardianships.append(Guardianship(user=actor))
    child.emergency_contacts.append(
        EmergencyContact(name=name, relationship_to_child=relationship, phone=phone)
    )
    db.session.add(child)
    db.session.flush()
    return child


def update_child(
    child: Child,
    *,
    actor: User,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    first_name_ar: str | None = None,
    last_name_ar: str | None = None,
    school_grade: str | None = None,
    may_leave_alone: bool = False,
) -> Child:
    """A guardian corrects a child's identity, school grade, or going-home arrangement."""
    _require_guardian(actor, child)
    _set_identity(
        child,
        first_name=first_name,
        last_name=last_name,
        first_name_ar=first_name_ar,
        last_name_ar=last_name_ar,
        date_of_birth=date_of_birth,
        school_grade=school_grade,
        may_leave_alone=may_leave_alone,
    )
    db.session.flush()
    return child


def children_of(user: User, *, with_details: bool = False) -> list[Child]:
    """The children ``user`` is a guardian of, oldest first, with what their cards show
    (and, ``with_details``, everything the export shows) loaded up front."""
    options = [
        selectinload(Child.emergency_contacts),
        selectinload(Child.consent_records),
        selectinload(Child.guardianships).selectinload(Guardianship.user),
    ]
    if with_details:
        options += [
            selectinload(Child.authorised_pickups),
            selectinload(Child.consent_records).selectinload(ConsentRecord.actor),
        ]
    return list(
        db.session.scalars(
            select(Child)
            .join(Guardianship)
            .where(Guardianship.user_id == user.id, Child.erased_at.is_(None))
            .options(*options)
            .order_by(Child.date_of_birth, Child.id)
        )
    )


def child_alerts(child: Child) -> list:
    """What the guardians still have to do for this child (shown on the family cards)."""
    config = current_app.config
    alerts = []
    if not child.emergency_contacts:
        alerts.append(_l("No emergency contact: add one so that we can reach someone."))
    versions = {
        ConsentKind.HEALTH: config["HEALTH_NOTICE_VERSION"],
        ConsentKind.PHOTO: config["PHOTO_NOTICE_VERSION"],
    }
    missing = {
        ConsentKind.HEALTH: _l("No decision yet about health information."),
        ConsentKind.PHOTO: _l("No decision yet about photos and videos."),
    }
    outdated = {
        ConsentKind.HEALTH: _l("The health information notice has changed: please confirm."),
        ConsentKind.PHOTO: _l("The photo notice has changed: please confirm your decision."),
    }
    for kind in (ConsentKind.HEALTH, ConsentKind.PHOTO):
        record = child.current_consent(kind)
        if record is None:
            alerts.append(missing[kind])
        elif record.notice_version != versions[kind]:
            alerts.append(outdated[kind])
    return alerts


# ---------------------------------------------------------------------------------------------
# Health data and consents


def _notice_version(kind: str) -> str:
    setting = "HEALTH_NOTICE_VERSION" if kind == ConsentKind.HEALTH else "PHOTO_NOTICE_VERSION"
    return current_app.config[setting]


def record_consent(child: Child, *, actor: User, kind: str, granted: bool) -> ConsentRecord:
    """Append a consent decision, unless it repeats the current one under the same notice."""
    _require_guardian(actor, child)
    if kind not in ConsentKind.__members__.values():
        raise DomainError(_l("Unknown kind of consent."))
    version = _notice_version(kind)
    current = child.current_consent(kind)
    if current is not None and current.granted == granted and current.notice_version == version:
        return current
    record = ConsentRecord(
        kind=kind, granted=granted, notice_version=version, actor_id=actor.id, recorded_at=utcnow()
    )
    child.consent_records.append(record)
    db.session.flush()
    audit.record(
        "family.consent",
        actor=actor,
        subject=child,
        kind=kind,
        granted=granted,
        notice_version=version,
        consent_record_id=record.id,
    )
    return record


def save_health(
    child: Child,
    *,
    actor: User,
    consent: bool,
    allergies: str | None,
    medical_notes: str | None,
) -> Child:
    """Record the health-data decision; notes are kept only with consent, and withdrawing the
    consent erases them."""
    _require_guardian(actor, child)
    allergies, medical_notes = _clean(allergies), _clean(medical_notes)
    if not consent and (allergies or medical_notes):
        raise DomainError(
            _l(
                "To store allergies or medical notes we need your consent. Give it, or leave "
                "these fields empty."
            ),
            field="consent",
        )
    record_consent(child, actor=actor, kind=ConsentKind.HEALTH, granted=consent)
    before = (child.allergies, child.medical_notes)
    child.allergies = allergies if consent else None
    child.medical_notes = medical_notes if consent else None
    db.session.flush()
    if before != (child.allergies, child.medical_notes):
        # Whether each field changed, never what it says.
        audit.record(
            "family.health_data",
            actor=actor,
            subject=child,
            allergies_changed=before[0] != child.allergies,
            medical_notes_changed=before[1] != child.medical_notes,
            stored=child.has_health_data,
        )
    return child


def set_photo_consent(child: Child, *, actor: User, granted: bool) -> ConsentRecord:
    """Grant or withdraw the photo and media consent (the history keeps every decision)."""
    return record_consent(child, actor=actor, kind=ConsentKind.PHOTO, granted=granted)


def log_medical_access(child: Child, *, staff: User) -> MedicalAccessLog | None:
    """Record that a member of staff opened the child's medical data (guardians are not logged)."""
    if not medical_access_is_logged(staff):
        return None
    entry = MedicalAccessLog(child_id=child.id, staff_id=staff.id, accessed_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    return entry


def medical_access_history(child: Child, *, limit: int = 50) -> list[MedicalAccessLog]:
    """The latest staff openings of the child's medical data, newest first."""
    return list(
        db.session.scalars(
            select(MedicalAccessLog)
            .where(MedicalAccessLog.child_id == child.id)
            .options(selectinload(MedicalAccessLog.staff))
            .order_by(MedicalAccessLog.accessed_at.desc(), MedicalAccessLog.id.desc())
            .limit(limit)
        )
    )


# ---------------------------------------------------------------------------------------------
# Emergency contacts and authorised pickup


def add_emergency_contact(child: Child, *, actor: User, person: Person) -> EmergencyContact:
    """Add someone to call in an emergency."""
    _require_guardian(actor, child)
    name, relationship, phone = _person(person)
    contact = EmergencyContact(name=name, relationship_to_child=relationship, phone=phone)
    child.emergency_contacts.append(contact)
    db.session.flush()
    return contact


def update_emergency_contact(
    contact: EmergencyContact, *, actor: User, person: Person
) -> EmergencyContact:
    """Correct an emergency contact."""
    _require_guardian(actor, contact.child)
    contact.name, contact.relationship_to_child, contact.phone = _person(person)
    db.session.flush()
    return contact


def remove_emergency_contact(contact: EmergencyContact, *, actor: User) -> None:
    """Remove an emergency contact; the last one stays (a child always has someone to call)."""
    child = contact.child
    _require_guardian(actor, child)
    _lock(child)
    count = db.session.scalar(select(func.count()).where(EmergencyContact.child_id == child.id))
    if count <= 1:
        raise DomainError(
            _l(
                "A child needs at least one emergency contact. Add another one before "
                "removing this one."
            )
        )
    db.session.delete(contact)
    db.session.flush()
    db.session.expire(child, ["emergency_contacts"])


def add_authorised_pickup(child: Child, *, actor: User, person: Person) -> AuthorisedPickup:
    """Allow someone to collect the child after a lesson."""
    _require_guardian(actor, child)
    name, relationship, phone = _person(person)
    pickup = AuthorisedPickup(name=name, relationship_to_child=relationship, phone=phone)
    child.authorised_pickups.append(pickup)
    db.session.flush()
    return pickup


def update_authorised_pickup(
    pickup: AuthorisedPickup, *, actor: User, person: Person
) -> AuthorisedPickup:
    """Correct a pickup person's details."""
    _require_guardian(actor, pickup.child)
    pickup.name, pickup.relationship_to_child, pickup.phone = _person(person)
    db.session.flush()
    return pickup


def remove_authorised_pickup(pickup: AuthorisedPickup, *, actor: User) -> None:
    """Withdraw someone's permission to collect the child."""
    child = pickup.child
    _require_guardian(actor, child)
    db.session.delete(pickup)
    db.session.flush()
    db.session.expire(child, ["authorised_pickups"])


# ---------------------------------------------------------------------------------------------
# Co-parents


def _invitation_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="lms-guardian-invitation")


def make_invitation_token(invitation: GuardianInvitation) -> str:
    """The signed token in an invitation link (it expires after INVITATION_MAX_AGE)."""
    return _invitation_serializer().dumps({"i": invitation.id, "e": invitation.email})


def invitation_expires_at(invitation: GuardianInvitation) -> datetime:
    """The instant an invitation's link stops working."""
    return invitation.created_at + timedelta(seconds=current_app.config["INVITATION_MAX_AGE"])


def invite_guardian(*, actor: User, email: str, children: Sequence[Child]) -> GuardianInvitation:
    """Invite someone by e-mail to become a guardian of some of the actor's children."""
    email = normalize_email(email)
    if not children:
        raise DomainError(_l("Choose at least one child."), field="children")
    for child in children:
        _require_guardian(actor, child)
    if email == actor.email:
        raise DomainError(
            _l("This is your own address: invite the other parent with theirs."), field="email"
        )
    invitee = find_user_by_email(email)
    if invitee is not None and not invitee.is_parent:
        raise DomainError(
            _l("This address belongs to a staff account; guardians need a parent account."),
            field="email",
        )
    if invitee is not None and all(is_guardian(invitee, child) for child in children):
        raise DomainError(_l("This person is already a guardian of these children."), field="email")
    invitation = GuardianInvitation(
        inviter=actor, email=email, children=list(children), created_at=utcnow()
    )
    db.session.add(invitation)
    db.session.flush()
    queue_email(
        to=email,
        template="guardian_invitation",
        language=invitee.locale if invitee is not None else actor.locale,
        user_id=invitee.id if invitee is not None else None,
        inviter=actor,
        invitee_email=email,
        children=list(children),
        token=make_invitation_token(invitation),
        days=current_app.config["INVITATION_MAX_AGE"] // 86400,
    )
    return invitation


def invitation_from_token(token: str) -> GuardianInvitation:
    """The open invitation a link carries; InvalidInvitation if expired, used or forged."""
    try:
        data = _invitation_serializer().loads(
            token, max_age=current_app.config["INVITATION_MAX_AGE"]
        )
    except SignatureExpired:
        raise InvalidInvitation(
            _l("This invitation has expired. Ask the other parent to send a new one.")
        ) from None
    except BadSignature:
        raise InvalidInvitation(_l("This invitation link is not valid.")) from None
    invitation = (
        db.session.get(GuardianInvitation, data.get("i")) if isinstance(data, dict) else None
    )
    if invitation is None or invitation.email != data.get("e"):
        raise InvalidInvitation(_l("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise InvalidInvitation(_l("This invitation has already been accepted."))
    if invitation.cancelled_at is not None:
        raise InvalidInvitation(_l("This invitation was cancelled."))
    return invitation


def invitation_children(invitation: GuardianInvitation) -> list[Child]:
    """The children an invitation still gives access to: not erased, still the inviter's."""
    return [
        child
        for child in invitation.children
        if not child.is_erased and is_guardian(invitation.inviter, child)
    ]


def accept_invitation(token: str, *, user: User) -> list[Child]:
    """The invitee becomes a guardian of the invitation's children; the link dies."""
    invitation = invitation_from_token(token)
    if not user.is_parent:
        raise DomainError(_l("Only a parent account can become a child's guardian."))
    if user.id == invitation.inviter_id:
        raise DomainError(_l("You sent this invitation; the other parent has to accept it."))
    if user.email != invitation.email:
        raise DomainError(
            _l(
                "This invitation was sent to %(email)s. Log in with that address to accept it.",
                email=invitation.email,
            )
        )
    children = invitation_children(invitation)
    if not children:
        raise InvalidInvitation(_l("This invitation no longer gives access to any child."))
    # Claim the invitation atomically: a double click or two tabs accept it once.
    claimed = db.session.execute(
        update(GuardianInvitation)
        .where(
            GuardianInvitation.id == invitation.id,
            GuardianInvitation.accepted_at.is_(None),
            GuardianInvitation.cancelled_at.is_(None),
        )
        .values(accepted_at=utcnow(), accepted_by_id=user.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if claimed != 1:
        raise InvalidInvitation(_l("This invitation has already been accepted."))
    for child in children:
        if not is_guardian(user, child):
            child.guardianships.append(Guardianship(user=user))
    db.session.flush()
    queue_email_to_user(invitation.inviter, "guardian_added", guardian=user, children=children)
    return children


def cancel_invitation(invitation: GuardianInvitation, *, actor: User) -> None:
    """A guardian of the invited children withdraws an invitation that is still open."""
    if not any(can_manage_child(actor, child) for child in invitation.children):
        raise DomainError(_l("Only the child's guardians can do this."))
    if not invitation.is_open:
        raise DomainError(_l("This invitation is no longer open."))
    invitation.cancelled_at = utcnow()
    db.session.flush()


def open_invitations(child: Child) -> list[GuardianInvitation]:
    """Invitations for this child that nobody has accepted or cancelled yet."""
    max_age = timedelta(seconds=current_app.config["INVITATION_MAX_AGE"])
    return list(
        db.session.scalars(
            select(GuardianInvitation)
            .join(guardian_invitation_children)
            .where(
                guardian_invitation_children.c.child_id == child.id,
                GuardianInvitation.accepted_at.is_(None),
                GuardianInvitation.cancelled_at.is_(None),
                GuardianInvitation.created_at > utcnow() - max_age,
            )
            .order_by(GuardianInvitation.created_at)
        )
    )


def remove_guardian(child: Child, *, actor: User, guardian: User) -> None:
    """A guardian removes another guardian (or leaves); a child always keeps at least one."""
    _lock(child)
    db.session.expire(child, ["guardianships"])  # read them again, under the lock
    _require_guardian(actor, child)
    guardianship = db.session.scalar(
        select(Guardianship).where(
            Guardianship.child_id == child.id, Guardianship.user_id == guardian.id
        )
    )
    if guardianship is None:
        raise DomainError(_l("This person is not a guardian of this child."))
    count = db.session.scalar(select(func.count()).where(Guardianship.child_id == child.id))
    if count <= 1:
        raise DomainError(
            _l("A child always keeps at least one guardian: invite another one first.")
        )
    db.session.delete(guardianship)
    db.session.flush()
    db.session.expire(child, ["guardianships"])
    if guardian.id != actor.id:
        queue_email_to_user(guardian, "guardian_removed", child=child, actor=actor)


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


def _person_data(person: EmergencyContact | AuthorisedPickup) -> dict:
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
                    }
                    for entry in logs[child.id]
                ],
            }
            for child in children
        ],
    )


hooks.export_sections.register(_account_section)
hooks.export_sections.register(_children_section)


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

    def count(model) -> int:
        return db.session.scalar(select(func.count()).where(model.child_id == child.id))

    lines = []
    for erasure in hooks.child_erasures:
        lines.extend(erasure.describe(child))
    return ChildErasurePreview(
        child=child,
        emergency_contacts=count(EmergencyContact),
        authorised_pickups=count(AuthorisedPickup),
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
    child.emergency_contacts.clear()
    child.authorised_pickups.clear()
    child.consent_records.clear()
    # The row stays, without anything that identifies the child: attendance counts and issued
    # certificates point at it, and certificate verification reads ``erased_at``.
    child.first_name = "—"
    child.last_name = "—"
    child.first_name_ar = child.last_name_ar = None
    child.date_of_birth = None
    child.school_grade = None
    child.allergies = child.medical_notes = None
    child.may_leave_alone = False
    child.erased_at = utcnow()
    db.session.flush()


def erase_child(child: Child, *, actor: User, password: str) -> None:
    """A guardian erases a child's data at once (password re-entered); the row stays anonymous."""
    _require_guardian(actor, child)
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

    @property
    def did_nothing(self) -> bool:
        return not any(
            (
                self.safeguarding_erased,
                self.notices_sent,
                self.notices_withdrawn,
                self.accounts_closed,
                self.accounts_refused,
            )
        )


def erase_safeguarding_data(child: Child) -> None:
    """Erase medical notes, emergency contacts and pickup list (the retention period is over)."""
    child.allergies = None
    child.medical_notes = None
    child.emergency_contacts.clear()
    child.authorised_pickups.clear()
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
        Child.emergency_contacts.any(),
        Child.authorised_pickups.any(),
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
    last cohort ended; parent accounts unused for years, after an e-mail notice."""
    now = now or utcnow()
    report = PurgeReport()
    _purge_safeguarding(now, report)
    _purge_accounts(now, report)
    return report
