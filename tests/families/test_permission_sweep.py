"""Every child-scoped URL and action, tried by people who must be refused."""

from __future__ import annotations

import pytest

from lms.extensions import db
from lms.families.children import save_health, set_photo_consent
from lms.families.contacts import Person, add_contact
from lms.families.data_rights import erase_child
from lms.families.guardians import invite_guardian
from lms.families.models import (
    Child,
    ConsentRecord,
    ContactKind,
    ContactPerson,
    GuardianInvitation,
    Guardianship,
    MedicalAccessLog,
)
from lms.roles import Role
from tests.conftest import PASSWORD, get, login

pytestmark = pytest.mark.usefixtures("ctx")

# (method, URL pattern, form data). {child}, {contact}, {pickup}, {guardian}, {invitation} are
# filled in from the victim's family.
CHILD_SCOPED = [
    ("GET", "/children/{child}", None),
    ("GET", "/children/{child}/edit", None),
    (
        "POST",
        "/children/{child}/edit",
        {
            "first_name": "Hacked",
            "last_name": "Hacked",
            "date_of_birth": "2016-01-01",
        },
    ),
    ("GET", "/children/{child}/health", None),
    ("POST", "/children/{child}/health", {"consent": "no"}),
    ("GET", "/children/{child}/photo-consent", None),
    ("POST", "/children/{child}/photo-consent", {"granted": "no"}),
    ("GET", "/children/{child}/emergency-contacts/new", None),
    (
        "POST",
        "/children/{child}/emergency-contacts/new",
        {"name": "Intruder", "relationship": "None", "phone": "0661000000"},
    ),
    ("GET", "/children/{child}/emergency-contacts/{contact}/edit", None),
    (
        "POST",
        "/children/{child}/emergency-contacts/{contact}/edit",
        {"name": "Intruder", "relationship": "None", "phone": "0661000000"},
    ),
    ("POST", "/children/{child}/emergency-contacts/{contact}/delete", {}),
    ("GET", "/children/{child}/pickups/new", None),
    (
        "POST",
        "/children/{child}/pickups/new",
        {"name": "Intruder", "relationship": "None", "phone": "0661000000"},
    ),
    ("GET", "/children/{child}/pickups/{pickup}/edit", None),
    (
        "POST",
        "/children/{child}/pickups/{pickup}/edit",
        {"name": "Intruder", "relationship": "None", "phone": "0661000000"},
    ),
    ("POST", "/children/{child}/pickups/{pickup}/delete", {}),
    ("GET", "/children/{child}/guardians/invite", None),
    (
        "POST",
        "/children/{child}/guardians/invite",
        {"email": "intruder@example.ma", "children": "{child}"},
    ),
    ("POST", "/children/{child}/guardians/{guardian}/remove", {}),
    ("POST", "/children/{child}/invitations/{invitation}/cancel", {}),
    ("GET", "/children/{child}/export.json", None),
    ("GET", "/children/{child}/erase", None),
    ("POST", "/children/{child}/erase", {"password": PASSWORD, "understood": "y"}),
    ("GET", "/children/{child}/safeguarding", None),
]

STAFF_URLS = {"/children/{child}/safeguarding"}


@pytest.fixture
def victim(make_child, make_user, coordinator):
    """A family with every kind of record, and a snapshot of them to compare with after."""
    owner = make_user(Role.PARENT, full_name="Leila Chraibi", locale="en")
    child = make_child(owner, first_name="Lina", last_name="Chraibi")
    actor = get(owner)
    save_health(child, actor=actor, consent=True, allergies="Kiwi", medical_notes=None)
    set_photo_consent(child, actor=actor, granted=True)
    pickup = add_contact(
        child,
        actor=actor,
        kind=ContactKind.PICKUP,
        person=Person("Thomas Martin", "Père", "+33612345678"),
    )
    invitation = invite_guardian(actor=actor, email="thomas@example.ma", children=[child])
    db.session.commit()
    ids = {
        "child": child.id,
        "contact": child.emergency_contacts[0].id,
        "pickup": pickup.id,
        "guardian": owner.id,
        "invitation": invitation.id,
    }
    return ids, snapshot()


def snapshot() -> dict:
    """Everything the family tables hold, to prove a refused request changed nothing."""
    db.session.expire_all()
    tables = [
        Child,
        Guardianship,
        ContactPerson,
        ConsentRecord,
        GuardianInvitation,
    ]
    state = {}
    for model in tables:
        rows = db.session.scalars(db.select(model).order_by(model.id)).all()
        state[model.__name__] = [
            {c.key: getattr(row, c.key) for c in model.__mapper__.column_attrs} for row in rows
        ]
    return state


def fill(pattern: str, ids: dict) -> str:
    return pattern.format(**ids)


def request(client, method: str, pattern: str, data, ids: dict):
    url = fill(pattern, ids)
    if method == "GET":
        return client.get(url)
    form = {key: fill(value, ids) for key, value in (data or {}).items()}
    return client.post(url, data=form)


@pytest.fixture(params=["another parent", "instructor", "anonymous"])
def intruder(request, client, make_user):
    """A client for someone who must see nothing of the victim's child."""
    role = request.param
    if role == "another parent":
        user = make_user(Role.PARENT, full_name="Omar Tazi", locale="en")
    elif role == "instructor":
        user = make_user(Role.INSTRUCTOR, full_name="Mehdi Ouazzani", locale="en")
    else:
        return role, client
    assert login(client, user).status_code == 302
    return role, client


@pytest.mark.parametrize(
    ("method", "pattern", "data"),
    CHILD_SCOPED,
    ids=[f"{m} {p}" for m, p, _ in CHILD_SCOPED],
)
def test_intruders_are_refused(victim, intruder, method, pattern, data):
    ids, before = victim
    role, client = intruder
    response = request(client, method, pattern, data, ids)
    if role == "anonymous":
        assert response.status_code == 302
        assert response.location.startswith("/login?next=")
    elif role == "another parent":
        # A parent is not told whether someone else's child exists.
        expected = 403 if pattern in STAFF_URLS else 404
        assert response.status_code == expected
    else:
        # An instructor who does not teach the child; parents' pages are not for staff.
        assert response.status_code == 403
    assert "Lina" not in response.get_data(as_text=True)
    assert snapshot() == before
    assert db.session.scalar(db.select(db.func.count()).select_from(MedicalAccessLog)) == 0


def test_coordinators_read_the_safeguarding_card_but_manage_nothing(victim, login_as, coordinator):
    ids, before = victim
    client = login_as(coordinator)
    for method, pattern, data in CHILD_SCOPED:
        response = request(client, method, pattern, data, ids)
        expected = 200 if pattern in STAFF_URLS else 403
        assert response.status_code == expected, (method, pattern)
    assert snapshot() == before


def test_family_wide_pages_show_only_ones_own_family(victim, login_as, make_user):
    stranger = make_user(Role.PARENT, locale="en")
    client = login_as(stranger)
    for url in ("/parent", "/children", "/family/export", "/family/export.json", "/family/erase"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Lina" not in response.get_data(as_text=True), url


@pytest.mark.parametrize(
    "url", ["/children", "/children/new", "/family/export", "/family/export.json", "/family/erase"]
)
def test_family_pages_are_for_parents(client, login_as, instructor, url):
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert login_as(instructor).get(url).status_code == 403


def test_the_coordinators_list_is_for_coordinators(client, login_as, parent, instructor):
    assert client.get("/coordinator/children").status_code == 302
    assert login_as(parent).get("/coordinator/children").status_code == 403
    client.post("/logout")
    assert login_as(instructor).get("/coordinator/children").status_code == 403


def test_the_sweep_covers_every_child_scoped_route(app):
    """A new child-scoped route must be added to CHILD_SCOPED (and so be swept). Higher
    domains' child-scoped routes are swept by their own tests (tests/attendance/...)."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if "child_id" not in rule.arguments or not rule.endpoint.startswith("families."):
            continue
        pattern = (
            rule.rule.replace("<int:child_id>", "{child}")
            .replace("pickups/<int:contact_id>", "pickups/{pickup}")
            .replace("<int:contact_id>", "{contact}")
            .replace("<int:user_id>", "{guardian}")
            .replace("<int:invitation_id>", "{invitation}")
        )
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method, pattern))
    assert routes == {(method, pattern) for method, pattern, _ in CHILD_SCOPED}


def test_an_erased_child_is_gone_for_everyone(victim, login_as, coordinator, make_user):
    ids, _ = victim
    owner = db.session.get(Child, ids["child"]).guardians[0]
    erase_child(db.session.get(Child, ids["child"]), actor=owner, password=PASSWORD)
    db.session.commit()
    client = login_as(coordinator)
    assert client.get(f"/children/{ids['child']}/safeguarding").status_code == 404
