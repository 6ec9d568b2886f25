"""Parents' data rights: export everything, erase a child or the whole account."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts.services import authenticate
from lms.errors import DomainError
from lms.extensions import db
from lms.families import hooks
from lms.families.children import children_of, log_medical_access, save_health, set_photo_consent
from lms.families.contacts import Person, add_contact
from lms.families.data_rights import (
    account_erasure_preview,
    child_erasure_preview,
    erase_account,
    erase_child,
    export_family,
)
from lms.families.guardians import accept_invitation, invite_guardian, make_invitation_token
from lms.families.models import Child, ConsentKind, ConsentRecord, ContactKind, GuardianInvitation
from lms.notifications.models import OutboxMessage
from tests.conftest import PASSWORD, get

pytestmark = pytest.mark.usefixtures("ctx")

ALLERGY = "Arachides : stylo d'adrénaline dans le cartable"
NOTES = "Épilepsie, traitement le matin"
PICKUP = Person("Brahim Zerhouni", "Voisin", "0661234599")


def everything_in_the_database() -> str:
    """Every value of every row of every table, as one text."""
    parts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            for value in row:
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "ignore")
                if value is not None:
                    parts.append(str(value))
    return "\n".join(parts).casefold()


def complete_profile(parent, child, coordinator):
    """Health data, a pickup person, consents, a staff opening, a shared guardian."""
    actor = get(parent)
    save_health(child, actor=actor, consent=True, allergies=ALLERGY, medical_notes=NOTES)
    set_photo_consent(child, actor=actor, granted=True)
    add_contact(child, actor=actor, kind=ContactKind.PICKUP, person=PICKUP)
    log_medical_access(child, staff=get(coordinator))
    db.session.commit()


@pytest.fixture
def shared(parent, co_parent, child):
    """The child is shared with the co-parent through an accepted invitation."""
    invitation = invite_guardian(actor=get(parent), email=co_parent.email, children=[child])
    accept_invitation(make_invitation_token(invitation), user=get(co_parent))
    db.session.commit()
    return child


class TestExport:
    def test_the_export_holds_everything_about_the_family(
        self, parent, co_parent, coordinator, shared
    ):
        complete_profile(parent, shared, coordinator)
        data = export_family(get(parent))
        assert data["format"] == "activelabs-family-export"
        assert data["account"]["email"] == parent.email
        assert data["account"]["full_name"] == "Karim Alaoui"
        assert data["account"]["invitations_sent"][0]["email"] == co_parent.email
        [exported] = data["children"]
        assert exported["first_name"] == "Zoubida"
        assert exported["first_name_ar"] == "زبيدة"
        assert exported["allergies"] == ALLERGY
        assert exported["medical_notes"] == NOTES
        assert exported["emergency_contacts"] == [
            {"name": "Fatiha Ouarzazi", "relationship": "Tante", "phone": "+212661234567"}
        ]
        assert exported["authorised_pickups"][0]["name"] == "Brahim Zerhouni"
        assert {(c["kind"], c["granted"]) for c in exported["consents"]} == {
            ("health", True),
            ("photo", True),
        }
        assert [g["full_name"] for g in exported["guardians"]] == ["Karim Alaoui", "Nadia Bennani"]
        assert exported["medical_data_opened_by_staff"][0]["staff"] == "Fatima Zahra El Amrani"

    def test_later_domains_add_their_sections(self, parent, child):
        def enrolments(guardian, children):
            return hooks.ExportSection(
                key="enrolments",
                title="Enrolments",
                data=[{"child_id": c.id, "cohort": "Robotique 1"} for c in children],
            )

        hooks.export_sections.register(enrolments)
        try:
            data = export_family(get(parent))
        finally:
            hooks.export_sections.unregister(enrolments)
        assert data["enrolments"] == [{"child_id": child.id, "cohort": "Robotique 1"}]
        assert "enrolments" not in export_family(get(parent))

    def test_a_child_export_holds_only_that_child(self, parent, child, make_child):
        make_child(parent, first_name="Adam")
        data = export_family(get(parent), [child])
        assert [c["first_name"] for c in data["children"]] == ["Zoubida"]


class TestChildErasure:
    def test_the_preview_lists_what_goes(self, parent, co_parent, coordinator, shared):
        complete_profile(parent, shared, coordinator)
        preview = child_erasure_preview(shared, actor=get(parent))
        assert preview.has_health_data
        assert (preview.emergency_contacts, preview.authorised_pickups) == (1, 1)
        assert (preview.consent_records, preview.medical_access_logs) == (2, 1)
        assert [g.id for g in preview.other_guardians] == [co_parent.id]

    def test_the_password_is_checked(self, parent, child):
        with pytest.raises(DomainError, match="password is not correct") as caught:
            erase_child(child, actor=get(parent), password="not-my-password")
        assert caught.value.field == "password"
        assert not child.is_erased

    def test_another_parent_cannot_erase(self, other_parent, child):
        with pytest.raises(DomainError, match="guardians"):
            erase_child(child, actor=get(other_parent), password=PASSWORD)

    def test_erasure_leaves_no_personal_data_anywhere(self, parent, co_parent, coordinator, shared):
        complete_profile(parent, shared, coordinator)
        # A pending invitation, and an e-mail to the family that names the child.
        invite_guardian(actor=get(parent), email="grandma@example.ma", children=[shared])
        db.session.commit()
        before = everything_in_the_database()
        words = [
            "Zoubida",
            "Tahiri-Benslimane",
            "زبيدة",
            "الطاهري",
            "Fatiha Ouarzazi",
            "+212661234567",
            "Brahim Zerhouni",
            "+212661234599",
            ALLERGY,
            NOTES,
            "grandma@example.ma",
        ]
        assert all(word.casefold() in before for word in words)  # the search finds them

        child_id = shared.id
        erase_child(shared, actor=get(parent), password=PASSWORD)
        db.session.commit()
        db.session.expire_all()

        after = everything_in_the_database()
        assert [word for word in words if word.casefold() in after] == []
        # The row stays for attendance and certificates, anonymous and marked.
        child = db.session.get(Child, child_id)
        assert child.is_erased
        assert (child.first_name, child.last_name, child.date_of_birth) == ("—", "—", None)
        assert child.guardianships == []
        assert children_of(get(parent)) == []
        assert children_of(get(co_parent)) == []
        # The parents' accounts are untouched.
        assert "karim alaoui" in after
        assert "nadia bennani" in after

    def test_other_domains_take_part(self, parent, child):
        seen = []
        erasure = hooks.Erasure(
            describe=lambda c: [f"2 enrolments of {c.first_name} will be anonymised"],
            erase=lambda c: seen.append((c.id, c.first_name)),
        )
        hooks.child_erasures.register(erasure)
        try:
            preview = child_erasure_preview(child)
            erase_child(child, actor=get(parent), password=PASSWORD)
        finally:
            hooks.child_erasures.unregister(erasure)
        assert preview.from_other_domains == ["2 enrolments of Zoubida will be anonymised"]
        assert seen == [(child.id, "Zoubida")]  # called before the names are gone

    def test_another_domain_may_refuse(self, parent, child):
        def refuse(child):
            raise DomainError("A certificate is being issued; try again in a minute.")

        erasure = hooks.Erasure(describe=lambda c: [], erase=refuse)
        hooks.child_erasures.register(erasure)
        try:
            with pytest.raises(DomainError, match="certificate"):
                erase_child(child, actor=get(parent), password=PASSWORD)
        finally:
            hooks.child_erasures.unregister(erasure)
        assert not child.is_erased
        assert child.first_name == "Zoubida"


class TestAccountErasure:
    def test_the_preview_separates_erased_and_kept_children(
        self, parent, co_parent, shared, make_child
    ):
        alone = make_child(parent, first_name="Adam")
        preview = account_erasure_preview(get(parent))
        assert [p.child.id for p in preview.children_erased] == [alone.id]
        assert [(c.id, [g.id for g in gs]) for c, gs in preview.children_kept] == [
            (shared.id, [co_parent.id])
        ]
        assert preview.invitations == 1

    def test_erasing_an_account(self, parent, co_parent, coordinator, shared, make_child):
        complete_profile(parent, shared, coordinator)
        alone = make_child(parent, first_name="Adam", last_name="Sghir")
        user = get(parent)
        email = user.email
        erase_account(user, password=PASSWORD)
        db.session.commit()
        db.session.expire_all()

        # The child only this parent managed is erased; the shared one stays with Nadia.
        assert db.session.get(Child, alone.id).is_erased
        kept = db.session.get(Child, shared.id)
        assert not kept.is_erased
        assert [g.id for g in kept.guardians] == [co_parent.id]
        assert kept.allergies == ALLERGY
        # Consent decisions Karim made stay valid, without naming him.
        assert all(
            r.actor_id is None
            for r in db.session.scalars(select(ConsentRecord))
            if r.kind == ConsentKind.PHOTO
        )
        # The account says nothing about him and cannot log in.
        erased = db.session.get(type(user), parent.id)
        assert erased.email == f"erased-{parent.id}@erased.invalid"
        assert (erased.full_name, erased.phone, erased.password_hash) == ("—", None, None)
        assert erased.active is False
        assert authenticate(email, PASSWORD) is None
        text = everything_in_the_database()
        assert "karim alaoui" not in text
        assert email.casefold() not in text
        assert "sghir" not in text
        assert db.session.scalars(select(GuardianInvitation)).all() == []
        assert (
            db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)).all()
            == []
        )

    def test_the_password_is_checked(self, parent, child):
        with pytest.raises(DomainError, match="password is not correct"):
            erase_account(get(parent), password="wrong-password-here")
        assert get(parent).active

    def test_staff_accounts_are_not_erased_here(self, coordinator):
        with pytest.raises(DomainError, match="coordinator"):
            erase_account(get(coordinator), password=PASSWORD)

    def test_other_domains_take_part(self, parent):
        seen = []
        erasure = hooks.Erasure(
            describe=lambda user: ["your payment records are kept for 10 years (law)"],
            erase=lambda user: seen.append(user.email),
        )
        hooks.account_erasures.register(erasure)
        try:
            preview = account_erasure_preview(get(parent))
            erase_account(get(parent), password=PASSWORD)
        finally:
            hooks.account_erasures.unregister(erasure)
        assert preview.from_other_domains == ["your payment records are kept for 10 years (law)"]
        assert seen == [parent.email]
