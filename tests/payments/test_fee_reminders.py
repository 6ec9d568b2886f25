"""Reminders of unpaid fees: sent per the schedule, in each parent's language, naming the
child and the group; once per step and enrolment; none once the fee is paid, waived or the
child withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from lms.enrolment.credit_notes import issue_credit_note
from lms.enrolment.fees import record_payment, set_fee_waiver
from lms.enrolment.joining import enrol
from lms.enrolment.leaving import withdraw
from lms.enrolment.reminders import FeeReminder, parse_schedule, send_fee_reminders
from lms.extensions import db
from lms.worker import remind_fees
from tests.conftest import get
from tests.enrolment.conftest import NOW, mails

# The group: Wednesdays from 7 October 2026; the family enrols on Monday 7 September.
# The default schedule: 10 September (3 days after), 5 October (2 days before the start),
# 10 October (3 days after it).


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 8, 0, tzinfo=UTC)


def steps_sent() -> list[tuple[int, str]]:
    return [
        (r.enrolment_id, r.step)
        for r in db.session.scalars(select(FeeReminder).order_by(FeeReminder.id))
    ]


@pytest.fixture
def family(make_family, make_cohort):
    user, child = make_family(first_name="Yasmine", locale="ar")
    cohort = make_cohort(capacity=5)
    enrolment = enrol(child, cohort, actor=get(user))
    db.session.commit()
    return user, child, enrolment


def test_each_step_on_its_day_once_in_the_parents_language(family, frozen_now):
    user, _child, enrolment = family
    assert send_fee_reminders(at(9, 9)) == []
    [sent] = send_fee_reminders(at(9, 10))
    assert (sent.step, sent.balance_centimes) == ("after_enrolment", 80000)
    assert send_fee_reminders(at(9, 10)) == []  # never twice
    assert send_fee_reminders(at(9, 20)) == []
    assert [r.step for r in send_fee_reminders(at(10, 5))] == ["before_start"]
    assert [r.step for r in send_fee_reminders(at(10, 12))] == ["after_start"]
    assert send_fee_reminders(at(10, 20)) == []
    mail = mails("fee_reminder")
    assert len(mail) == 3
    assert {m.language for m in mail} == {"ar"}
    assert all(m.recipient == user.email for m in mail)
    assert "Yasmine" in mail[0].body
    assert enrolment.cohort.course.title("ar") in mail[0].body


def test_in_french_with_the_rib_and_the_familys_reference(make_family, make_cohort, app):
    user, child = make_family(first_name="Adam", locale="fr")
    enrol(child, make_cohort(capacity=5), actor=get(user))
    send_fee_reminders(at(9, 10))
    [mail] = mails("fee_reminder")
    assert mail.language == "fr"
    assert "Adam" in mail.body
    assert "reste à payer" in mail.body.lower() or "restent à payer" in mail.body.lower()
    assert app.config["LAB_RIB"] in mail.body


def test_a_late_enrolment_gets_only_the_latest_step(make_family, make_cohort, frozen_now):
    user, child = make_family()
    frozen_now.move_to(at(10, 6))
    enrolment = enrol(child, make_cohort(capacity=5), actor=get(user))
    send_fee_reminders(at(10, 9))  # both "after enrolment" (9 Oct) and "before start" are due
    assert steps_sent() == [(enrolment.id, "after_enrolment")]


def test_none_once_paid_or_waived_or_withdrawn_or_refunded(family, make_family, make_cohort, world):
    _, _, paid = family
    record_payment(
        paid, actor=world.coordinator, amount_centimes=80000, method="cash", paid_on=NOW.date()
    )
    waived_user, waived_child = make_family()
    waived = enrol(waived_child, paid.cohort, actor=get(waived_user))
    set_fee_waiver(waived, actor=world.coordinator, amount_centimes=80000, reason="Bourse.")
    gone_user, gone_child = make_family()
    gone = enrol(gone_child, paid.cohort, actor=get(gone_user))
    withdraw(gone, actor=get(gone_user))
    part_user, part_child = make_family()
    part = enrol(part_child, paid.cohort, actor=get(part_user))
    payment = record_payment(
        part, actor=world.coordinator, amount_centimes=30000, method="cash", paid_on=NOW.date()
    )

    send_fee_reminders(at(9, 10))
    assert steps_sent() == [(part.id, "after_enrolment")]  # only the place still owing
    # A credit note on a paid place makes it owe again: the next step reminds it.
    issue_credit_note(
        payment, actor=world.coordinator, amount_centimes=10000, reason="Erreur de caisse."
    )
    record_payment(
        part, actor=world.coordinator, amount_centimes=60000, method="cash", paid_on=NOW.date()
    )
    assert part.balance_centimes == 0
    assert send_fee_reminders(at(10, 5)) == []


def test_the_schedule_is_a_setting(family, app):
    _, _, _enrolment = family
    app.config["FEE_REMINDER_DAYS"] = "before_start:10"
    assert send_fee_reminders(at(9, 10)) == []
    assert [r.step for r in send_fee_reminders(at(9, 27))] == ["before_start"]
    app.config["FEE_REMINDER_DAYS"] = ""
    assert send_fee_reminders(at(10, 12)) == []


@pytest.mark.parametrize(
    "text", ["after_payment:3", "before_start", "before_start:soon", "after_start:-1"]
)
def test_a_wrong_schedule_is_refused_with_its_reason(text):
    with pytest.raises(ValueError, match="FEE_REMINDER_DAYS"):
        parse_schedule(text)


def test_the_worker_job_commits_what_it_sent(family, frozen_now):
    frozen_now.move_to(at(9, 10))
    assert remind_fees() == "fee reminders sent: 1"
    assert remind_fees() is None
