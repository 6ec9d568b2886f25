"""The families services write the audit log: consent decisions, health data changes, erasures
(by a parent, and by the retention purge). Ids and values only, never names or notes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.families.children import save_health, set_photo_consent
from lms.families.data_rights import erase_account, erase_child
from lms.families.models import Child
from lms.roles import Role
from tests import builders
from tests.conftest import PASSWORD


def _entries(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def _child(parent: User, name: str = "Yasmine") -> Child:
    return builders.child(parent, name, "Alaoui", date_of_birth=date(2017, 5, 4))


def _leaks(entry: AuditEntry, *words: str) -> bool:
    text = f"{entry.details} {entry.reason}"
    return any(word in text for word in words)


def test_consents_and_health_data_are_audited(app, parent):
    with app.app_context():
        karim = db.session.get(User, parent.id)
        child = _child(karim)
        set_photo_consent(child, actor=karim, granted=True)
        set_photo_consent(child, actor=karim, granted=True)  # no change: no entry
        save_health(child, actor=karim, consent=True, allergies="Arachides", medical_notes="Asthme")
        save_health(child, actor=karim, consent=False, allergies=None, medical_notes=None)
        consents = _entries("family.consent")
        assert [(e.details["kind"], e.details["granted"]) for e in consents] == [
            ("photo", True),
            ("health", True),
            ("health", False),
        ]
        assert all(e.actor_id == karim.id and e.subject_id == child.id for e in consents)
        health = _entries("family.health_data")
        assert [e.details for e in health] == [
            {"allergies_changed": True, "medical_notes_changed": True, "stored": True},
            {"allergies_changed": True, "medical_notes_changed": True, "stored": False},
        ]
        assert not any(_leaks(e, "Arachides", "Asthme", "Yasmine") for e in consents + health)


def test_erasures_are_audited(app, parent, make_user):
    omar = make_user(Role.PARENT, full_name="Omar Tazi")
    with app.app_context():
        karim = db.session.get(User, parent.id)
        yasmine = _child(karim)
        erase_child(yasmine, actor=karim, password=PASSWORD)
        [entry] = _entries("family.child_erased")
        assert (entry.actor_id, entry.subject_type, entry.subject_id) == (
            karim.id,
            "children",
            yasmine.id,
        )
        tazi = db.session.get(User, omar.id)
        rania = _child(tazi, "Rania")
        erase_account(tazi, password=PASSWORD)
        [entry] = _entries("family.account_erased")
        assert (entry.subject_type, entry.subject_id) == ("users", tazi.id)
        assert entry.details == {"children": [rania.id]}
        assert not _leaks(entry, "Omar", "Tazi", "Rania", "@")
