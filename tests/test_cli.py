"""`flask lms ...` commands: good and bad arguments."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.demo import DEMO_PASSWORD, demo_logins
from lms.extensions import db
from lms.notifications.models import OutboxMessage


def test_create_coordinator_with_a_setup_link(app, runner):
    result = runner.invoke(
        args=[
            "lms",
            "create-user",
            "--role",
            "coordinator",
            "--email",
            "Chef@ActiveLabs.ma",
            "--name",
            "Fatima Zahra El Amrani",
            "--phone",
            "0661234501",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created coordinator chef@activelabs.ma" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "chef@activelabs.ma"))
        assert (user.role, user.phone, user.password_hash) == ("coordinator", "+212661234501", None)
        assert db.session.scalar(select(OutboxMessage.template)) == "account_setup"


def test_create_user_with_a_typed_password(app, runner):
    result = runner.invoke(
        args=[
            "lms",
            "create-user",
            "--role",
            "instructor",
            "--email",
            "i@activelabs.ma",
            "--name",
            "Mehdi Ouazzani",
            "--password",
        ],
        input="les engrenages tournent\nles engrenages tournent\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User.password_hash)).startswith("$argon2id$")


def test_create_user_bad_arguments(app, runner, parent):
    cases = [
        (["--role", "admin", "--email", "a@b.ma", "--name", "A"], "'admin' is not one of"),
        (["--role", "parent", "--email", "not-an-email", "--name", "A"], "--email"),
        (["--role", "parent", "--email", "a@b.ma", "--name", "A", "--phone", "12"], "--phone"),
        (
            ["--role", "parent", "--email", parent.email.upper(), "--name", "A"],
            "utilise déjà cette adresse",
        ),
        (["--email", "a@b.ma", "--name", "A"], "Missing option '--role'"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["lms", "create-user", *args])
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    result = runner.invoke(
        args=[
            "lms",
            "create-user",
            "--role",
            "parent",
            "--email",
            "w@b.ma",
            "--name",
            "W",
            "--password",
        ],
        input="123456\n123456\n",
    )
    assert result.exit_code == 1
    assert "au moins 10 caractères" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_seed_demo_is_idempotent_and_prints_logins(app, runner):
    first = runner.invoke(args=["lms", "seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert DEMO_PASSWORD in first.output
    for _, email in demo_logins():
        assert email in first.output
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
    second = runner.invoke(args=["lms", "seed-demo", "--if-empty"])
    assert "already present" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == users
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # Without --if-empty, loading over the demo completes what is missing and adds no copies.
    third = runner.invoke(args=["lms", "seed-demo"])
    assert third.exit_code == 0, third.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == users
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_demo_logins_work(app, client, runner):
    runner.invoke(args=["lms", "seed-demo"])
    for role, email in demo_logins():
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        assert client.get("/home").headers["Location"] == f"/{role}"
        client.post("/logout")


def test_seed_demo_refuses_production(app, runner):
    app.config["ENV"] = "production"
    result = runner.invoke(args=["lms", "seed-demo"])
    assert result.exit_code == 1
    assert "production" in result.output
