"""Children, emergency contacts and pickup: the service rules."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from lms.clock import age_in_years, local_today
from lms.errors import DomainError
from lms.extensions import db
from lms.families.children import add_child, children_of, update_child
from lms.families.contacts import Person, add_contact, remove_contact, update_contact
from lms.families.models import Child, ContactKind
from lms.roles import Role
from tests.conftest import get
from tests.families.conftest import EMERGENCY, years_ago

pytestmark = pytest.mark.usefixtures("ctx")


def test_a_parent_adds_a_child_and_becomes_its_guardian(parent, child):
    assert child.id is not None
    assert [g.id for g in child.guardians] == [parent.id]
    assert child.full_name == "Zoubida Tahiri-Benslimane"
    assert child.full_name_ar == "زبيدة الطاهري"
    assert child.age_in_years(local_today()) == 9
    [contact] = child.emergency_contacts
    assert (contact.name, contact.relationship_to_child) == ("Fatiha Ouarzazi", "Tante")
    assert contact.phone == "+212661234567"  # stored as E.164
    assert child.may_leave_alone is False
    assert child.allergies is None
    assert child.consent_records == []


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Zoé", "N'Diaye"),
        ("محمد", "الإدريسي"),  # Arabic script in the main fields is allowed too
        ("Ⴀნა", "Ջոն"),  # Georgian, Armenian
        ("Anne-Sophie", "de La Tour d'Auvergne"),
    ],
)
def test_names_may_use_any_script(make_child, parent, first, last):
    child = make_child(parent, first_name=f"  {first} ", last_name=last)
    assert (child.first_name, child.last_name) == (first, last)


def test_blank_arabic_names_are_stored_as_nothing(make_child, parent):
    child = make_child(parent, first_name_ar="  ", last_name_ar="")
    assert child.first_name_ar is None
    assert child.full_name_ar is None


@pytest.mark.parametrize(
    ("born", "message"),
    [
        (lambda: date.fromordinal(local_today().toordinal() + 1), "cannot be in the future"),
        (lambda: years_ago(4, days=1), "aged 4 to 18"),  # 4 tomorrow: still 3
        (lambda: years_ago(19), "aged 4 to 18"),  # 19 today
        (lambda: years_ago(60), "would be 60"),
    ],
)
def test_implausible_dates_of_birth_are_refused(parent, born, message):
    with pytest.raises(DomainError, match=message) as caught:
        add_child(
            get(parent),
            first_name="Test",
            last_name="Enfant",
            date_of_birth=born(),
            emergency_contact=EMERGENCY,
        )
    assert caught.value.field == "date_of_birth"
    assert db.session.scalars(db.select(Child)).all() == []


@pytest.mark.parametrize("born", [lambda: years_ago(4), lambda: years_ago(19, days=1)])
def test_the_age_bounds_are_inclusive(make_child, parent, born):
    """4 today is accepted; so is 18 until the day before the 19th birthday."""
    assert make_child(parent, date_of_birth=born()).id


def test_age_bounds_are_configurable(app, make_child, parent):
    app.config["CHILD_MIN_AGE"] = 6
    with pytest.raises(DomainError, match="aged 6 to 18"):
        make_child(parent, date_of_birth=years_ago(5))


def test_today_is_the_day_in_tangier_not_in_utc(make_child, parent):
    # 23:30 UTC on 31 December 2025 was already 1 January 2026 in Casablanca (UTC+1).
    with time_machine.travel("2025-12-31 23:30:00+00:00", tick=False):
        assert local_today() == date(2026, 1, 1)
        assert make_child(parent, date_of_birth=date(2022, 1, 1)).age_in_years(local_today()) == 4


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2016, 3, 14), date(2026, 3, 13), 9),
        (date(2016, 3, 14), date(2026, 3, 14), 10),
        (date(2016, 2, 29), date(2026, 2, 28), 9),
        (date(2016, 2, 29), date(2026, 3, 1), 10),
    ],
)
def test_age_in_years(born, on, age):
    assert age_in_years(born, on) == age


def test_a_child_needs_an_emergency_contact(parent):
    with pytest.raises(DomainError, match="at least one emergency contact") as caught:
        add_child(
            get(parent),
            first_name="Test",
            last_name="Enfant",
            date_of_birth=years_ago(8),
            emergency_contact=None,
        )
    assert caught.value.field == "emergency_name"


def test_an_invalid_phone_is_refused_on_its_field(parent):
    with pytest.raises(DomainError, match="valid phone number") as caught:
        add_child(
            get(parent),
            first_name="Test",
            last_name="Enfant",
            date_of_birth=years_ago(8),
            emergency_contact=Person("Fatiha", "Tante", "12345"),
        )
    assert caught.value.field == "emergency_phone"


def test_only_parents_add_children(instructor):
    with pytest.raises(DomainError, match="Only parent accounts"):
        add_child(
            get(instructor),
            first_name="Test",
            last_name="Enfant",
            date_of_birth=years_ago(8),
            emergency_contact=EMERGENCY,
        )


def test_a_guardian_edits_the_child(parent, child):
    update_child(
        child,
        actor=get(parent),
        first_name="Zoubida",
        last_name="Tahiri",
        first_name_ar=None,
        last_name_ar=None,
        date_of_birth=years_ago(10),
        school_grade="CM1",
        may_leave_alone=True,
    )
    db.session.commit()
    db.session.refresh(child)
    assert (child.last_name, child.first_name_ar, child.school_grade) == ("Tahiri", None, "CM1")
    assert child.may_leave_alone is True


def test_edits_check_the_date_of_birth_too(parent, child):
    with pytest.raises(DomainError, match="future"):
        update_child(
            child,
            actor=get(parent),
            first_name="Zoubida",
            last_name="Tahiri",
            date_of_birth=date(2999, 1, 1),
        )


def test_another_parent_cannot_edit(child, other_parent):
    with pytest.raises(DomainError, match="guardians"):
        update_child(
            child,
            actor=get(other_parent),
            first_name="X",
            last_name="Y",
            date_of_birth=years_ago(8),
        )


def test_emergency_contacts_keep_at_least_one(parent, child):
    actor = get(parent)
    [first] = child.emergency_contacts
    with pytest.raises(DomainError, match="at least one emergency contact"):
        remove_contact(first, actor=actor)
    second = add_contact(
        child,
        actor=actor,
        kind=ContactKind.EMERGENCY,
        person=Person("Ali Tahiri", "Oncle", "+33 6 12 34 56 78"),
    )
    assert second.phone == "+33612345678"
    remove_contact(first, actor=actor)
    db.session.commit()
    assert [c.name for c in child.emergency_contacts] == ["Ali Tahiri"]


def test_emergency_contacts_are_edited_with_a_valid_phone(parent, child):
    [contact] = child.emergency_contacts
    with pytest.raises(DomainError) as caught:
        update_contact(contact, actor=get(parent), person=Person("Fatiha", "Tante", "not a phone"))
    assert caught.value.field == "phone"
    update_contact(contact, actor=get(parent), person=Person("Fatiha O.", "Tante", "0522 22 33 44"))
    assert (contact.name, contact.phone) == ("Fatiha O.", "+212522223344")


def test_pickup_people_are_added_edited_and_removed(parent, child):
    actor = get(parent)
    pickup = add_contact(
        child,
        actor=actor,
        kind=ContactKind.PICKUP,
        person=Person("Latifa Alaoui", "Grand-mère", "0661234590"),
    )
    assert [p.name for p in child.authorised_pickups] == ["Latifa Alaoui"]
    update_contact(pickup, actor=actor, person=Person("Latifa A.", "Grand-mère", "0661234590"))
    assert pickup.name == "Latifa A."
    remove_contact(pickup, actor=actor)
    db.session.commit()
    assert child.authorised_pickups == []  # no minimum: guardians always collect


@pytest.mark.parametrize("field", ["name", "relationship"])
def test_people_need_a_name_and_a_relationship(parent, child, field):
    values = {"name": "Latifa", "relationship": "Grand-mère", "phone": "0661234590", field: "  "}
    with pytest.raises(DomainError) as caught:
        add_contact(child, actor=get(parent), kind=ContactKind.PICKUP, person=Person(**values))
    assert caught.value.field == field


def test_children_of_lists_only_the_users_children(make_child, parent, other_parent, make_user):
    older = make_child(parent, first_name="Adam", date_of_birth=years_ago(12))
    younger = make_child(parent, first_name="Rania", date_of_birth=years_ago(7))
    make_child(other_parent, first_name="Ilyas")
    assert [c.first_name for c in children_of(get(parent))] == ["Adam", "Rania"]
    assert older.id != younger.id
    assert children_of(get(make_user(Role.PARENT))) == []
