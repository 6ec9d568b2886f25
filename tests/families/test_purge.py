"""Retention: `flask lms purge` erases old safeguarding data and closes inactive accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from lms.accounts.models import User
from lms.extensions import db
from lms.families.children import save_health
from lms.families.contacts import Person, add_contact
from lms.families.data_rights import erase_child, months_before, purge
from lms.families.models import AccountClosureNotice, Child, ContactKind
from lms.notifications.models import OutboxMessage
from lms.roles import Role
from tests.conftest import get

NOW = datetime(2027, 6, 15, 10, 0, tzinfo=UTC)


def _with_safeguarding_data(parent, child):
    actor = get(parent)
    save_health(child, actor=actor, consent=True, allergies="Eggs", medical_notes="Asthma")
    add_contact(
        child,
        actor=actor,
        kind=ContactKind.PICKUP,
        person=Person("Latifa", "Grand-mère", "0661234590"),
    )
    db.session.commit()


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (date(2027, 6, 15), 12, date(2026, 6, 15)),
        (date(2027, 3, 31), 1, date(2027, 2, 28)),
        (date(2028, 3, 31), 1, date(2028, 2, 29)),
        (date(2027, 1, 10), 36, date(2024, 1, 10)),
        (datetime(2027, 1, 31, 8, 0, tzinfo=UTC), 2, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
    ],
)
def test_months_before(moment, months, expected):
    assert months_before(moment, months) == expected


@pytest.mark.usefixtures("ctx")
class TestSafeguardingRetention:
    def test_nothing_goes_while_no_domain_knows_about_cohorts(self, parent, child):
        _with_safeguarding_data(parent, child)
        report = purge(now=NOW)
        assert report.did_nothing
        assert child.allergies == "Eggs"

    def test_medical_and_emergency_data_go_twelve_months_after_the_last_cohort(
        self, last_cohort_ends, parent, child, make_child
    ):
        _with_safeguarding_data(parent, child)
        recent = make_child(parent, first_name="Adam")
        _with_safeguarding_data(parent, recent)
        last_cohort_ends[child.id] = date(2026, 6, 15)  # exactly 12 months ago
        last_cohort_ends[recent.id] = date(2026, 6, 16)  # one day short
        report = purge(now=NOW)
        db.session.commit()
        assert report.safeguarding_erased == [child.id]
        db.session.refresh(child)
        assert (child.allergies, child.medical_notes) == (None, None)
        assert child.emergency_contacts == []
        assert child.authorised_pickups == []
        # Identity and consent history stay: the child may enrol again.
        assert child.first_name == "Zoubida"
        assert recent.allergies == "Eggs"
        assert len(recent.emergency_contacts) == 1

    def test_the_retention_period_is_configurable(self, app, last_cohort_ends, parent, child):
        _with_safeguarding_data(parent, child)
        app.config["RETENTION_MONTHS_AFTER_LAST_COHORT"] = 3
        last_cohort_ends[child.id] = date(2027, 3, 15)
        assert purge(now=NOW).safeguarding_erased == [child.id]

    def test_purging_twice_does_nothing_the_second_time(self, last_cohort_ends, parent, child):
        _with_safeguarding_data(parent, child)
        last_cohort_ends[child.id] = date(2025, 1, 1)
        assert purge(now=NOW).safeguarding_erased == [child.id]
        db.session.commit()
        assert purge(now=NOW).did_nothing

    def test_erased_children_are_left_alone(self, last_cohort_ends, parent, child):
        erase_child(child, actor=get(parent), password="correct-horse-battery")
        last_cohort_ends[child.id] = date(2025, 1, 1)
        assert purge(now=NOW).did_nothing


@pytest.mark.usefixtures("ctx")
class TestInactiveAccounts:
    @pytest.fixture
    def sleeper(self, make_user):
        """A parent who last logged in more than 36 months before NOW."""
        return make_user(
            Role.PARENT,
            full_name="Ahmed Dormant",
            created_at=datetime(2023, 1, 5, tzinfo=UTC),
            last_login_at=datetime(2024, 6, 14, 9, 0, tzinfo=UTC),
        )

    def test_active_accounts_and_staff_are_kept(self, make_user, sleeper):
        make_user(Role.PARENT, last_login_at=datetime(2024, 6, 16, tzinfo=UTC))
        make_user(Role.INSTRUCTOR, created_at=datetime(2020, 1, 1, tzinfo=UTC))
        report = purge(now=NOW)
        assert report.notices_sent == [sleeper.id]

    def test_never_logged_in_counts_from_the_creation(self, make_user):
        old = make_user(Role.PARENT, created_at=datetime(2024, 1, 1, tzinfo=UTC))
        make_user(Role.PARENT, created_at=datetime(2025, 1, 1, tzinfo=UTC))
        assert purge(now=NOW).notices_sent == [old.id]

    def test_notice_then_closure(self, app, sleeper, make_child):
        child = make_child(sleeper, first_name="Sami")
        report = purge(now=NOW)
        db.session.commit()
        assert report.notices_sent == [sleeper.id]
        notice = db.session.scalar(db.select(AccountClosureNotice))
        assert notice.closes_at == NOW + timedelta(days=30)
        mail = db.session.scalar(
            db.select(OutboxMessage).where(OutboxMessage.template == "account_closure_notice")
        )
        assert mail.recipient == sleeper.email
        assert "/login" in mail.body

        # Running again before the notice period ends changes nothing.
        assert purge(now=NOW + timedelta(days=29)).did_nothing

        report = purge(now=NOW + timedelta(days=30))
        db.session.commit()
        assert report.accounts_closed == [sleeper.id]
        user = db.session.get(User, sleeper.id)
        assert user.active is False
        assert user.email.endswith("@erased.invalid")
        assert db.session.get(Child, child.id).is_erased
        # ...and once closed, the account is never touched again.
        assert purge(now=NOW + timedelta(days=60)).did_nothing

    def test_logging_in_after_the_notice_keeps_the_account(self, sleeper):
        purge(now=NOW)
        db.session.commit()
        get(sleeper).last_login_at = NOW + timedelta(days=3)
        report = purge(now=NOW + timedelta(days=31))
        db.session.commit()
        assert report.notices_withdrawn == [sleeper.id]
        assert report.accounts_closed == []
        assert get(sleeper).active
        assert db.session.scalar(db.select(AccountClosureNotice)) is None

    def test_the_periods_are_configurable(self, app, make_user):
        app.config["INACTIVE_ACCOUNT_MONTHS"] = 6
        app.config["ACCOUNT_CLOSURE_NOTICE_DAYS"] = 7
        user = make_user(Role.PARENT, last_login_at=datetime(2026, 12, 1, tzinfo=UTC))
        purge(now=NOW)
        assert purge(now=NOW + timedelta(days=7)).accounts_closed == [user.id]


def test_the_purge_command_prints_what_it_did(app, runner, make_user):
    sleeper = make_user(Role.PARENT, last_login_at=datetime(2020, 1, 1, tzinfo=UTC))
    with time_machine.travel(NOW, tick=False):
        first = runner.invoke(args=["lms", "purge"])
        again = runner.invoke(args=["lms", "purge"])
    assert first.exit_code == 0, first.output
    assert f"closure notice to 1 inactive account(s): {sleeper.id}." in first.output
    assert again.output == "Nothing to purge.\n"
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        closed = runner.invoke(args=["lms", "purge"])
    assert f"Closed and erased 1 inactive account(s) after notice: {sleeper.id}." in closed.output
