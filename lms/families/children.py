"""Children: who they are, what their guardians still have to do, their health data and the
consents that allow keeping it, and the trace of staff reading it."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.audit import services as audit
from lms.clock import age_in_years, local_today
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families import photos
from lms.families.contacts import Person, clean, new_contact
from lms.families.models import (
    AccessKind,
    Child,
    ConsentKind,
    ConsentRecord,
    ContactKind,
    Guardianship,
    MedicalAccessLog,
)
from lms.families.permissions import medical_access_is_logged, require_guardian

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
    first_name, last_name = clean(first_name), clean(last_name)
    if not first_name:
        raise DomainError(_l("This field is required."), field="first_name")
    if not last_name:
        raise DomainError(_l("This field is required."), field="last_name")
    check_date_of_birth(date_of_birth)
    child.first_name = first_name
    child.last_name = last_name
    child.first_name_ar = clean(first_name_ar)
    child.last_name_ar = clean(last_name_ar)
    child.date_of_birth = date_of_birth
    child.school_grade = clean(school_grade)
    child.may_leave_alone = may_leave_alone


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
        contact = new_contact(ContactKind.EMERGENCY, emergency_contact)
    except DomainError as error:
        raise DomainError(error.message, field=f"emergency_{error.field}") from None
    child.guardianships.append(Guardianship(user=actor))
    child.contact_people.append(contact)
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
    require_guardian(actor, child)
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
        selectinload(Child.contact_people),
        selectinload(Child.consent_records),
        selectinload(Child.guardianships).selectinload(Guardianship.user),
    ]
    if with_details:
        options.append(selectinload(Child.consent_records).selectinload(ConsentRecord.actor))
    return list(
        db.session.scalars(
            select(Child)
            .join(Guardianship)
            .where(Guardianship.user_id == user.id, Child.erased_at.is_(None))
            .options(*options)
            .order_by(Child.date_of_birth, Child.id)
        )
    )


class Family(NamedTuple):
    """A guardian as the staff's lists name a family: the account and the children's names."""

    guardian: User
    children: list[str]


def families_of(user_ids) -> dict[int, Family]:
    """Per guardian (user id), the account and the first names of their children."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids)))
    families = {user.id: Family(user, []) for user in users}
    for user_id, first_name in db.session.execute(
        select(Guardianship.user_id, Child.first_name)
        .join(Child, Child.id == Guardianship.child_id)
        .where(Guardianship.user_id.in_(ids))
        .order_by(Guardianship.user_id, Child.date_of_birth, Child.id)
    ):
        families[user_id].children.append(first_name)
    return families


class ChildAlert(NamedTuple):
    """One thing to do for a child; only an urgent one is shown in a warning's colours."""

    text: str
    urgent: bool

    def __str__(self) -> str:
        return str(self.text)


def child_alerts(child: Child) -> list[ChildAlert]:
    """What the guardians still have to do for this child (shown on the family cards).

    Nobody to call is urgent; a consent not yet decided is a choice left to the family, shown
    quietly so that the warnings keep their weight."""
    config = current_app.config
    alerts = []
    if not child.emergency_contacts:
        alerts.append(
            ChildAlert(_l("No emergency contact: add one so that we can reach someone."), True)
        )
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
            alerts.append(ChildAlert(missing[kind], False))
        elif record.notice_version != versions[kind]:
            alerts.append(ChildAlert(outdated[kind], False))
    register_photo = child.current_consent(ConsentKind.ID_PHOTO)
    if child.has_photo and register_photo.notice_version != config["ID_PHOTO_NOTICE_VERSION"]:
        alerts.append(
            ChildAlert(
                _l("The notice of the photo on the register has changed: please confirm."), False
            )
        )
    if not child.full_name_ar:
        alerts.append(
            ChildAlert(
                _l("No name in Arabic letters: add it for the Arabic side of certificates."), False
            )
        )
    return alerts


# ---------------------------------------------------------------------------------------------
# Health data and consents


NOTICE_VERSIONS = {
    ConsentKind.HEALTH: "HEALTH_NOTICE_VERSION",
    ConsentKind.PHOTO: "PHOTO_NOTICE_VERSION",
    ConsentKind.ID_PHOTO: "ID_PHOTO_NOTICE_VERSION",
}


def _notice_version(kind: str) -> str:
    return current_app.config[NOTICE_VERSIONS[ConsentKind(kind)]]


def record_consent(child: Child, *, actor: User, kind: str, granted: bool) -> ConsentRecord:
    """Append a consent decision, unless it repeats the current one under the same notice."""
    require_guardian(actor, child)
    if kind not in set(ConsentKind):
        raise DomainError(_l("Unknown kind of consent."))
    version = _notice_version(kind)
    current = child.current_consent(kind)
    if current is not None and current.granted == granted and current.notice_version == version:
        return current
    record = ConsentRecord(
        kind=kind, granted=granted, notice_version=version, actor_id=actor.id, recorded_at=utcnow()
    )
    child.consent_records.append(record)
    if kind == ConsentKind.ID_PHOTO and not granted:
        _drop_photo(child, actor=actor)  # withdrawing the consent deletes the photo
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
    require_guardian(actor, child)
    allergies, medical_notes = clean(allergies), clean(medical_notes)
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


# ---------------------------------------------------------------------------------------------
# The photo on the register


def set_photo(child: Child, data: bytes, *, actor: User, agreed: bool) -> Child:
    """A guardian adds or replaces the child's identification photo, agreeing that the staff
    who teach the child's groups and the coordinators see it; the old file goes at commit."""
    require_guardian(actor, child)
    if not agreed:
        raise DomainError(
            _l("Tick the box to agree to who sees the photo."),
            field="agreed",
        )
    encoded = photos.encode(data)  # refuses before anything changes
    record_consent(child, actor=actor, kind=ConsentKind.ID_PHOTO, granted=True)
    replaced = child.photo_image
    child.photo_image = photos.store(encoded, db.session())
    photos.discard(replaced, db.session())
    db.session.flush()
    audit.record("family.photo_set", actor=actor, subject=child, replaced=bool(replaced))
    return child


def _drop_photo(child: Child, *, actor: User) -> None:
    if child.photo_image:
        photos.discard(child.photo_image, db.session())
        child.photo_image = None
        audit.record("family.photo_removed", actor=actor, subject=child)


def remove_photo(child: Child, *, actor: User) -> Child:
    """A guardian removes the photo, which withdraws its consent; the file goes at commit."""
    require_guardian(actor, child)
    _drop_photo(child, actor=actor)
    if child.current_consent(ConsentKind.ID_PHOTO) is not None:
        record_consent(child, actor=actor, kind=ConsentKind.ID_PHOTO, granted=False)
    db.session.flush()
    return child


def log_medical_access(
    child: Child, *, staff: User, what: AccessKind = AccessKind.HEALTH
) -> MedicalAccessLog | None:
    """Record that a member of staff opened the child's medical data (guardians are not logged)."""
    if not medical_access_is_logged(staff):
        return None
    entry = MedicalAccessLog(
        child_id=child.id, staff_id=staff.id, accessed_at=utcnow(), what=what.value
    )
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
