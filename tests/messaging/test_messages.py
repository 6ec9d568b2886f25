"""Messages to families: who receives them (once each), in which language, what a reader sees
(escaped text, safe links), who may write, and where the copies are read again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.courses.models import Cohort, Course
from lms.courses.terms import term_by_key
from lms.errors import DomainError
from lms.extensions import db
from lms.messaging import services
from lms.messaging.models import Audience, Message, MessageRecipient
from lms.messaging.rendering import linkify
from lms.notifications.models import OutboxMessage

NASTY = (
    "<script>alert('x')</script> Rendez-vous samedi.\n"
    "Programme : https://example.ma/salon?a=1&b=2. Pas ceci : javascript:alert(1)\n"
    '<a href="javascript:alert(2)">clic</a>'
)


def _outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _send(client, **data):
    form = {"audience": "cohort", "subject": "Sortie", "body": "Bonjour à tous.", "send": "1"}
    form.update(data)
    return client.post("/messages/new", data=form)


# ---------------------------------------------------------------------------------------------
# Services


def test_recipients_are_parents_of_seat_holders_once_each(app, world):
    with app.app_context():
        a = db.session.get(Cohort, world.ids["a"])
        b = db.session.get(Cohort, world.ids["b"])
        # A: Yasmine and Adam (both Karim's) and Lina's seat offered (Leila); Ilyas waits.
        assert [u.id for u in services.recipients_of(Audience.COHORT, [a])] == [
            world.parents["p1"].id,
            world.parents["p3"].id,
        ]
        # B: Adam (Karim) and Rania (Omar); Ilyas withdrew, so Leila is not written to.
        assert [u.id for u in services.recipients_of(Audience.COHORT, [b])] == [
            world.parents["p1"].id,
            world.parents["p2"].id,
        ]
        waiting = services.audience_cohorts(Audience.WAITING_LISTS)
        assert [c.id for c in waiting] == [world.ids["a"]]
        assert [u.id for u in services.recipients_of(Audience.WAITING_LISTS, waiting)] == [
            world.parents["p3"].id
        ]
        robotics = db.session.get(Course, world.ids["robotics"])
        cohorts = services.audience_cohorts(
            Audience.COURSE, course=robotics, term=term_by_key("2026-autumn")
        )
        assert [c.id for c in cohorts] == [world.ids["a"]]  # not the winter group


def test_send_queues_one_email_per_parent_in_their_language(app, world):
    with app.app_context():
        coordinator = db.session.get(User, world.coordinator.id)
        b = db.session.get(Cohort, world.ids["b"])
        draft = services.prepare(
            actor=coordinator, audience="cohort", cohort=b, subject="Sortie\nBcc: x", body=NASTY
        )
        message = services.send(draft, actor=coordinator)
        db.session.commit()
        assert message.recipient_count == 2
        assert message.subject == "Sortie Bcc: x"  # one line: nothing reaches the headers
        assert [c.id for c in message.cohorts] == [world.ids["b"]]
    mails = _outbox(app)
    assert sorted(m.recipient for m in mails) == sorted(
        [world.parents["p1"].email, world.parents["p2"].email]
    )
    by_language = {m.language: m for m in mails}
    assert "Bonjour Karim Alaoui" in by_language["fr"].body
    assert "مرحبًا" in by_language["ar"].body or "Omar Tazi" in by_language["ar"].body
    for mail in mails:
        assert NASTY.split("\n")[0] in mail.body  # the text as written (plain-text e-mail)
        assert mail.subject.endswith("Sortie Bcc: x")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "message.sent"))
        assert entry.details["recipients"] == 2
        assert entry.details["cohorts"] == [world.ids["b"]]
        assert "Sortie" not in str(entry.details)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": "  "}, "subject"),
        ({"subject": "x" * 151}, "subject"),
        ({"body": "\n \n"}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"audience": "everyone"}, "audience"),
        ({"cohort": None}, "cohort"),
    ],
)
def test_prepare_refuses_bad_messages(app, world, changes, field):
    with app.app_context():
        arguments = {
            "actor": db.session.get(User, world.coordinator.id),
            "audience": "cohort",
            "cohort": db.session.get(Cohort, world.ids["a"]),
            "subject": "Sortie",
            "body": "Bonjour",
        }
        arguments.update(changes)
        with pytest.raises(DomainError) as error:
            services.prepare(**arguments)
        assert error.value.field == field


def test_instructors_write_only_to_their_own_cohorts(app, world):
    with app.app_context():
        lead = db.session.get(User, world.lead.id)
        a = db.session.get(Cohort, world.ids["a"])
        b = db.session.get(Cohort, world.ids["b"])
        assert services.prepare(actor=lead, audience="cohort", cohort=a, subject="s", body="b")
        with pytest.raises(DomainError):
            services.prepare(actor=lead, audience="cohort", cohort=b, subject="s", body="b")
        with pytest.raises(DomainError):
            services.prepare(actor=lead, audience="waiting_lists", subject="s", body="b")


def test_linkify_escapes_everything_and_links_only_web_addresses():
    html = str(linkify(NASTY))
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert (
        '<a href="https://example.ma/salon?a=1&amp;b=2" rel="noopener nofollow">'
        "https://example.ma/salon?a=1&amp;b=2</a>." in html
    )
    assert 'href="javascript' not in html
    assert html.count("<a ") == 1
    assert str(linkify('see (https://x.ma/a_(b)) "https://y.ma"')) == (
        'see (<a href="https://x.ma/a_(b)" rel="noopener nofollow">https://x.ma/a_(b)</a>) '
        '&#34;<a href="https://y.ma" rel="noopener nofollow">https://y.ma</a>&#34;'
    )
    assert str(linkify("http:// nothing")) == "http:// nothing"


# ---------------------------------------------------------------------------------------------
# Pages


def test_preview_then_send_through_the_pages(app, world, login_as):
    client = login_as(world.coordinator)
    form = client.get(f"/messages/new?cohort_id={world.ids['a']}&audience=cohort")
    assert form.status_code == 200
    assert f'<option selected value="{world.ids["a"]}">' in form.get_data(as_text=True)
    preview = client.post(
        "/messages/new",
        data={"audience": "cohort", "cohort": world.ids["a"], "subject": "Sortie",
              "body": NASTY, "preview": "1"},
    )  # fmt: skip
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "This message will be sent to 2 families." in page
    assert "&lt;script&gt;" in page
    assert "<script>alert" not in page
    assert _outbox(app) == []  # a preview sends nothing
    sent = _send(client, cohort=world.ids["a"], body=NASTY)
    assert sent.status_code == 302
    assert len(_outbox(app)) == 2
    detail = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "&lt;script&gt;" in detail
    assert "<script>alert" not in detail
    assert 'rel="noopener nofollow"' in detail
    assert 'href="javascript' not in detail
    # The cohort's history on the coordinators' cohort page.
    cohort_page = client.get(f"/coordinator/cohorts/{world.ids['a']}").get_data(as_text=True)
    assert "Messages to the families" in cohort_page
    assert "Sortie" in cohort_page
    assert "<script>alert" not in cohort_page


def test_a_refused_message_shows_the_reason_on_the_body_and_keeps_what_was_typed(
    app, world, login_as
):
    client = login_as(world.coordinator)
    body = "x" * 5001  # the form lets it through; the service counts and refuses
    response = _send(client, cohort=world.ids["a"], subject="Sortie au musée", body=body)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        '<p class="error" id="body-error">The message is too long (at most 5000 characters).</p>'
    ) in page
    assert 'value="Sortie au musée"' in page
    assert f"{body}</textarea>" in page
    assert _outbox(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id))) == 0
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_parents_see_the_messages_sent_to_them(app, world, login_as, client):
    with app.app_context():
        coordinator = db.session.get(User, world.coordinator.id)
        draft = services.prepare(
            actor=coordinator,
            audience="cohort",
            cohort=db.session.get(Cohort, world.ids["b"]),
            subject="Atelier annulé",
            body=NASTY,
        )
        services.send(draft, actor=coordinator)
        db.session.commit()
    karim = login_as(world.parents["p1"])
    home = karim.get("/parent").get_data(as_text=True)
    assert "Atelier annulé" in home
    assert "&lt;script&gt;" in home
    assert "<script>alert" not in home
    assert "Atelier annulé" in karim.get("/family/messages").get_data(as_text=True)
    karim.post("/logout")
    leila = login_as(world.parents["p3"])  # her child withdrew from B
    assert "Atelier annulé" not in leila.get("/parent").get_data(as_text=True)
    assert "Atelier annulé" not in leila.get("/family/messages").get_data(as_text=True)


def test_instructor_pages_are_limited_to_their_cohorts(app, world, login_as):
    client = login_as(world.lead)
    form = client.get("/messages/new").get_data(as_text=True)
    assert f'value="{world.ids["a"]}"' in form
    assert f'value="{world.ids["b"]}"' not in form
    assert 'value="waiting_lists"' not in form
    refused = _send(client, cohort=world.ids["b"])
    assert refused.status_code == 422
    assert _outbox(app) == []
    assert _send(client, audience="waiting_lists").status_code == 422
    assert _send(client, cohort=world.ids["a"]).status_code == 302
    with app.app_context():
        message_id = db.session.scalar(select(Message.id))
    assert client.get(f"/messages/{message_id}").status_code == 200
    client.post("/logout")
    other = login_as(world.other_instructor)
    assert other.get(f"/messages/{message_id}").status_code == 403
    assert message_id
    assert "Sortie" not in other.get("/messages/").get_data(as_text=True)


def test_parents_and_visitors_are_refused(world, login_as, client):
    assert client.get("/messages/new").status_code == 302
    assert client.post("/messages/new").status_code == 302
    parent = login_as(world.parents["p1"])
    assert parent.get("/messages/new").status_code == 403
    assert _send(parent, cohort=world.ids["a"]).status_code == 403
    assert parent.get("/messages/").status_code == 403


def test_erasing_an_account_forgets_it_among_recipients(app, world):
    with app.app_context():
        coordinator = db.session.get(User, world.coordinator.id)
        draft = services.prepare(
            actor=coordinator,
            audience="cohort",
            cohort=db.session.get(Cohort, world.ids["a"]),
            subject="s",
            body="b",
        )
        services.send(draft, actor=coordinator)
        services.forget_recipient(db.session.get(User, world.parents["p1"].id))
        left = db.session.scalar(select(func.count()).select_from(MessageRecipient))
        assert left == 1
