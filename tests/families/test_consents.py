"""Health data needs consent; consents are versioned, revocable, and keep their history."""

from __future__ import annotations

import pytest
import time_machine

from lms.errors import DomainError
from lms.extensions import db
from lms.families.children import child_alerts, record_consent, save_health, set_photo_consent
from lms.families.models import ConsentKind, ConsentRecord
from tests.conftest import get

pytestmark = pytest.mark.usefixtures("ctx")


def _history(child, kind):
    return [
        (r.granted, r.notice_version)
        for r in db.session.scalars(
            db.select(ConsentRecord)
            .where(ConsentRecord.child_id == child.id, ConsentRecord.kind == kind)
            .order_by(ConsentRecord.id)
        )
    ]


def test_health_notes_need_consent(parent, child):
    with pytest.raises(DomainError, match="need your consent") as caught:
        save_health(
            child, actor=get(parent), consent=False, allergies="Peanuts", medical_notes=None
        )
    assert caught.value.field == "consent"
    assert child.allergies is None
    assert _history(child, ConsentKind.HEALTH) == []


def test_consent_is_recorded_with_time_version_and_actor(app, parent, child):
    with time_machine.travel("2026-10-01 08:00:00+00:00", tick=False):
        save_health(
            child,
            actor=get(parent),
            consent=True,
            allergies="Peanuts: adrenaline pen in the bag",
            medical_notes="  ",
        )
    db.session.commit()
    record = child.current_consent(ConsentKind.HEALTH)
    assert record.granted is True
    assert record.notice_version == app.config["HEALTH_NOTICE_VERSION"]
    assert record.actor_id == parent.id
    assert record.recorded_at.isoformat() == "2026-10-01T08:00:00+00:00"
    assert child.allergies == "Peanuts: adrenaline pen in the bag"
    assert child.medical_notes is None
    assert child.has_consent(ConsentKind.HEALTH)


def test_withdrawing_health_consent_erases_the_notes(parent, child):
    actor = get(parent)
    save_health(child, actor=actor, consent=True, allergies="Eggs", medical_notes="Asthma")
    save_health(child, actor=actor, consent=False, allergies=None, medical_notes=None)
    db.session.commit()
    db.session.refresh(child)
    assert (child.allergies, child.medical_notes) == (None, None)
    assert [granted for granted, _ in _history(child, ConsentKind.HEALTH)] == [True, False]


def test_saying_no_without_notes_is_a_decision_too(parent, child):
    assert "No decision yet about health information." in [str(a) for a in child_alerts(child)]
    save_health(child, actor=get(parent), consent=False, allergies="", medical_notes="")
    assert child.current_consent(ConsentKind.HEALTH).granted is False
    assert "No decision yet about health information." not in [str(a) for a in child_alerts(child)]


def test_the_same_decision_twice_is_one_record(parent, child):
    actor = get(parent)
    save_health(child, actor=actor, consent=True, allergies="Eggs", medical_notes=None)
    save_health(child, actor=actor, consent=True, allergies="Eggs, milk", medical_notes="")
    assert len(_history(child, ConsentKind.HEALTH)) == 1
    assert child.allergies == "Eggs, milk"


def test_photo_consent_is_revocable_and_keeps_its_history(app, parent, co_parent, child):
    set_photo_consent(child, actor=get(parent), granted=True)
    set_photo_consent(child, actor=get(parent), granted=False)
    # A new notice version asks again, even for the same answer.
    app.config["PHOTO_NOTICE_VERSION"] = "2027-01"
    set_photo_consent(child, actor=get(parent), granted=False)
    db.session.commit()
    assert _history(child, ConsentKind.PHOTO) == [
        (True, "2026-09"),
        (False, "2026-09"),
        (False, "2027-01"),
    ]
    assert child.has_consent(ConsentKind.PHOTO) is False
    # The history is separate per kind.
    assert _history(child, ConsentKind.HEALTH) == []


def test_a_changed_notice_shows_an_alert(app, parent, child):
    actor = get(parent)
    set_photo_consent(child, actor=actor, granted=True)
    save_health(child, actor=actor, consent=False, allergies=None, medical_notes=None)
    assert [str(a) for a in child_alerts(child)] == []
    app.config["PHOTO_NOTICE_VERSION"] = "2027-01"
    assert [str(a) for a in child_alerts(child)] == [
        "The photo notice has changed: please confirm your decision."
    ]


def test_alerts_for_a_new_child(parent, child):
    assert [str(a) for a in child_alerts(child)] == [
        "No decision yet about health information.",
        "No decision yet about photos and videos.",
    ]
    child.contact_people.clear()
    assert str(child_alerts(child)[0]).startswith("No emergency contact")


def test_only_guardians_decide(child, other_parent, coordinator):
    for actor in (other_parent, coordinator):
        with pytest.raises(DomainError, match="guardians"):
            set_photo_consent(child, actor=get(actor), granted=True)


def test_unknown_consent_kinds_are_refused(parent, child):
    with pytest.raises(DomainError, match="Unknown kind"):
        record_consent(child, actor=get(parent), kind="marketing", granted=True)


def test_a_child_without_an_arabic_name_has_a_quiet_reminder(child):
    reminder = "No name in Arabic letters: add it for the Arabic side of certificates."
    assert reminder not in [str(a) for a in child_alerts(child)]
    child.first_name_ar = child.last_name_ar = None
    [alert] = [a for a in child_alerts(child) if str(a) == reminder]
    assert not alert.urgent
