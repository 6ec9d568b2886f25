"""Check-out: only a guardian or someone on the child's pickup list, or "left alone" when the
parents allowed it; checked server-side, with the time; the roster lists who is still waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.attendance import roll_call
from lms.attendance.models import Checkout
from lms.attendance.roster import lesson_roster
from lms.audit.models import AuditEntry
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import ContactKind, ContactPerson
from tests.attendance.conftest import add_child, mark


@pytest.fixture
def present(ctx, term):
    mark(term, 5, {0: "present", 1: "late", 2: "absent"})
    return term


def check_out(term, index, collector, **kwargs):
    kwargs.setdefault("actor", term.get(term.lead))
    return roll_call.check_out(term.lesson(5), term.child(index), collector=collector, **kwargs)


def test_an_authorised_person_collects_the_child(present):
    term = present
    checkout = check_out(term, 0, f"pickup-{term.pickup_id}")
    assert checkout.collector_kind == "pickup"
    assert checkout.pickup_id == term.pickup_id
    assert checkout.collector_name == "Latifa Alaoui"
    assert checkout.collected_at is not None
    assert checkout.recorded_by_id == term.lead.id
    roster = lesson_roster(term.lesson(5))
    assert [row.child.first_name for row in roster.waiting_for_pickup] == ["Adam"]
    assert [row.child.first_name for row in roster.collected] == ["Yasmine"]


def test_a_guardian_collects_the_child(present):
    term = present
    checkout = check_out(term, 0, f"guardian-{term.parent.id}")
    assert (checkout.collector_kind, checkout.guardian_id) == ("guardian", term.parent.id)
    assert checkout.collector_name == "Karim Alaoui"


def test_someone_not_on_the_list_cannot_be_chosen(present):
    term = present
    other_childs_pickup = ContactPerson(
        child_id=term.child_ids[2],
        kind=ContactKind.PICKUP,
        name="Inconnu",
        relationship_to_child="Voisin",
        phone="+212600000000",
    )
    db.session.add(other_childs_pickup)
    db.session.flush()
    for collector in (
        f"pickup-{other_childs_pickup.id}",
        f"guardian-{term.other_parent.id}",
        f"guardian-{term.lead.id}",
        "pickup-999999",
        "someone",
        "",
    ):
        with pytest.raises(DomainError, match="not on Yasmine's list") as refused:
            check_out(term, 0, collector)
        assert refused.value.field == "collector"
    assert db.session.scalar(select(db.func.count()).select_from(Checkout)) == 0


def test_left_alone_only_if_the_parents_allowed_it(present):
    term = present
    with pytest.raises(DomainError, match="not allowed Yasmine to leave alone"):
        check_out(term, 0, "alone")
    checkout = check_out(term, 1, "alone")  # Adam may leave alone
    assert checkout.collector_kind == "alone"
    assert checkout.collector_name is None


def test_only_children_present_are_checked_out(present):
    with pytest.raises(DomainError, match="present or late"):
        check_out(present, 2, f"guardian-{present.other_parent.id}")


def test_a_child_not_on_the_roster_cannot_be_checked_out(present):
    stranger = add_child(present.parent.id, "Ilyas", "Alaoui")
    with pytest.raises(DomainError, match="not enrolled"):
        roll_call.check_out(
            present.lesson(5), stranger, actor=present.get(present.lead), collector="alone"
        )


@pytest.mark.parametrize("who", ["outsider", "parent"])
def test_only_the_cohorts_staff_check_out(present, who):
    with pytest.raises(DomainError, match="Only the cohort's instructors"):
        check_out(
            present, 0, f"pickup-{present.pickup_id}", actor=present.get(getattr(present, who))
        )


def test_the_time_is_kept_and_checked(present):
    term = present
    lesson = term.lesson(5)
    at = lesson.starts_at + timedelta(minutes=20)
    assert check_out(term, 0, f"pickup-{term.pickup_id}", at=at).collected_at == at
    with pytest.raises(DomainError, match="before the lesson") as refused:
        check_out(term, 0, f"pickup-{term.pickup_id}", at=lesson.starts_at - timedelta(hours=2))
    assert refused.value.field == "at"
    with pytest.raises(DomainError, match="future"):
        check_out(term, 0, f"pickup-{term.pickup_id}", at=lesson.starts_at + timedelta(hours=5))


def test_a_second_check_out_corrects_the_first_and_is_audited(present):
    term = present
    check_out(term, 0, f"pickup-{term.pickup_id}")
    check_out(term, 0, f"guardian-{term.parent.id}")
    checkout = db.session.scalars(select(Checkout)).one()
    assert checkout.collector_kind == "guardian"
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "attendance.checked_out")
            .order_by(AuditEntry.id)
        )
    )
    assert [e.details["collector"] for e in entries] == ["pickup", "guardian"]
    assert entries[1].details["corrected_from"] == "pickup"
    assert "Latifa" not in str([e.details for e in entries])


def test_the_name_stays_when_the_pickup_person_is_removed_later(present):
    term = present
    check_out(term, 0, f"pickup-{term.pickup_id}")
    db.session.delete(db.session.get(ContactPerson, term.pickup_id))
    db.session.flush()
    db.session.expire_all()
    checkout = db.session.scalars(select(Checkout)).one()
    assert checkout.pickup_id is None
    assert checkout.collector_name == "Latifa Alaoui"
