"""Absence notices from parents, the same-day absence e-mail (once, unless turned off), and the
"threshold out of reach" e-mail to parents and coordinators (once per enrolment)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.attendance.models import AbsenceNotice, AttendanceChange, ThresholdNotice
from lms.attendance.notices import absence_emails_enabled, report_absence, set_absence_emails
from lms.attendance.rates import attendance_summaries
from lms.attendance.roll_call import save_roll_call
from lms.attendance.roster import lesson_roster
from lms.courses.models import Lesson, LessonStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from tests.attendance.conftest import entries, mark


def outbox(template: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
        )
    )


# ---------------------------------------------------------------------------------------------
# Absence notices


def test_a_parent_reports_an_absence_ahead_and_the_mark_is_excused(ctx, term):
    lesson = term.lesson(7)
    notice = report_absence(
        lesson, term.child(0), actor=term.get(term.parent), reason="  Rendez-vous chez le dentiste "
    )
    assert notice.reason == "Rendez-vous chez le dentiste"
    roster = lesson_roster(lesson)
    row = next(r for r in roster.rows if r.child.id == term.child_ids[0])
    assert row.notice is notice
    assert row.status == "excused"
    change = db.session.scalars(select(AttendanceChange)).one()
    assert (change.before, change.after, change.source) == (None, "excused", "absence_notice")
    assert change.changed_by_id == term.parent.id


def test_the_instructor_can_still_mark_a_child_who_came_after_all(ctx, term, frozen_now):
    report_absence(term.lesson(6), term.child(0), actor=term.get(term.parent))
    frozen_now.move_to(term.lesson(6).starts_at + timedelta(minutes=5))
    save_roll_call(
        term.lesson(6),
        actor=term.get(term.lead),
        entries=entries((term.child_ids[0], "present"), seen={term.child_ids[0]: (1, "excused")}),
    )
    roster = lesson_roster(term.lesson(6))
    assert next(r for r in roster.rows if r.child.id == term.child_ids[0]).status == "present"


@pytest.mark.parametrize("who", ["other_parent", "lead", "coordinator"])
def test_only_guardians_report_absences(ctx, term, who):
    with pytest.raises(DomainError, match="guardians"):
        report_absence(term.lesson(7), term.child(0), actor=term.get(getattr(term, who)))


def test_no_notice_once_the_lesson_started_or_for_a_cancelled_lesson(ctx, term):
    parent = term.get(term.parent)
    with pytest.raises(DomainError, match="already started"):
        report_absence(term.lesson(5), term.child(0), actor=parent)
    term.lesson(8).status = LessonStatus.CANCELLED
    with pytest.raises(DomainError, match="cancelled"):
        report_absence(term.lesson(8), term.child(0), actor=parent)


def test_no_notice_twice_nor_for_a_child_not_enrolled(ctx, term):
    from tests.attendance.conftest import add_child

    parent = term.get(term.parent)
    report_absence(term.lesson(7), term.child(0), actor=parent)
    with pytest.raises(DomainError, match="already been reported"):
        report_absence(term.lesson(7), term.child(0), actor=parent)
    other = add_child(term.parent.id, "Ilyas", "Alaoui")
    with pytest.raises(DomainError, match="not enrolled"):
        report_absence(term.lesson(7), other, actor=parent)
    assert db.session.scalar(select(db.func.count()).select_from(AbsenceNotice)) == 1


# ---------------------------------------------------------------------------------------------
# The absence e-mail


def test_parents_are_emailed_the_same_day_once_per_child_and_lesson(ctx, term):
    mark(term, 5, {0: "present", 2: "absent"})
    messages = outbox("attendance_absent")
    assert [m.recipient for m in messages] == [term.other_parent.email]
    assert messages[0].language == "fr"
    assert "Rania" in messages[0].subject
    assert "Robotique LEGO" in messages[0].body
    # Saved again (absent -> present -> absent): no second e-mail.
    mark(term, 5, {2: "present"})
    mark(term, 5, {2: "absent"}, by=term.assistant)
    assert len(outbox("attendance_absent")) == 1


def test_each_guardian_in_their_own_language(ctx, term, make_user):
    from lms.families.models import Guardianship

    co_parent = make_user("parent", full_name="Nadia Bennani", locale="ar")
    db.session.add(Guardianship(user_id=co_parent.id, child_id=term.child_ids[2]))
    mark(term, 5, {2: "absent"})
    messages = outbox("attendance_absent")
    assert {(m.recipient, m.language) for m in messages} == {
        (term.other_parent.email, "fr"),
        (co_parent.email, "ar"),
    }
    arabic = next(m for m in messages if m.language == "ar")
    assert "Rania" in arabic.subject


def test_no_email_when_the_parents_reported_the_absence(ctx, term, frozen_now):
    report_absence(term.lesson(6), term.child(0), actor=term.get(term.parent))
    frozen_now.move_to(term.lesson(6).starts_at + timedelta(minutes=20))
    save_roll_call(
        term.lesson(6),
        actor=term.get(term.lead),
        entries=entries((term.child_ids[0], "absent"), seen={term.child_ids[0]: (1, "excused")}),
    )
    assert outbox("attendance_absent") == []


def test_no_email_for_a_lesson_marked_on_a_later_day(ctx, term):
    mark(term, 4, {2: "absent"}, now=term.lesson(4).ends_at + timedelta(days=1))
    assert outbox("attendance_absent") == []


def test_no_email_for_a_parent_who_turned_them_off(ctx, term):
    other = term.get(term.other_parent)
    assert absence_emails_enabled(other)
    set_absence_emails(other, enabled=False)
    assert not absence_emails_enabled(other)
    mark(term, 5, {2: "absent"})
    assert outbox("attendance_absent") == []
    set_absence_emails(other, enabled=True)
    set_absence_emails(other, enabled=True)
    assert absence_emails_enabled(other)


def test_staff_have_no_absence_email_setting(ctx, term):
    with pytest.raises(DomainError):
        set_absence_emails(term.get(term.lead), enabled=False)


# ---------------------------------------------------------------------------------------------
# Threshold out of reach


def test_parents_and_coordinators_are_told_once_when_the_threshold_is_out_of_reach(
    ctx, make_term, frozen_now
):
    # Four lessons at 75%: missing two of them makes the threshold unreachable.
    from tests.attendance.conftest import FIRST_DAY

    term = make_term(children=1, threshold=75, last_day=FIRST_DAY + timedelta(weeks=3))
    mark(term, 1, {0: "absent"})
    assert outbox("attendance_threshold_parent") == []
    mark(term, 2, {0: "absent"})
    parents = outbox("attendance_threshold_parent")
    coordinators = outbox("attendance_threshold_coordinator")
    assert [m.recipient for m in parents] == [term.parent.email]
    assert term.coordinator.email in [m.recipient for m in coordinators]
    assert "Yasmine" in parents[0].subject
    assert "75%" in parents[0].body or "75 %" in parents[0].body
    assert db.session.scalar(select(db.func.count()).select_from(ThresholdNotice)) == 1
    # A later absence, and a correction back and forth, tell nobody again.
    mark(term, 3, {0: "absent"})
    mark(term, 3, {0: "present"})
    mark(term, 3, {0: "absent"})
    assert len(outbox("attendance_threshold_parent")) == 1


def test_unmarked_lessons_alone_never_tell_families_the_threshold_is_lost(ctx, make_term):
    from tests.attendance.conftest import FIRST_DAY

    term = make_term(children=1, threshold=75, last_day=FIRST_DAY + timedelta(weeks=3))
    # Lessons 1 to 3 were never marked; the instructor marks lesson 4 late.
    mark(term, 4, {0: "present"})
    summary = attendance_summaries(enrolment_ids=term.enrolment_ids)[term.enrolment_ids[0]]
    assert not summary.reachable  # officially: 1 of 4
    assert outbox("attendance_threshold_parent") == []


def test_cancelled_lesson_counts_nowhere_in_the_threshold(ctx, make_term):
    from tests.attendance.conftest import FIRST_DAY

    term = make_term(children=1, threshold=75, last_day=FIRST_DAY + timedelta(weeks=3))
    db.session.get(Lesson, term.lesson_ids[3]).status = LessonStatus.CANCELLED
    mark(term, 1, {0: "present"})
    mark(term, 2, {0: "present"})
    mark(term, 3, {0: "absent"})
    summary = attendance_summaries(enrolment_ids=term.enrolment_ids)[term.enrolment_ids[0]]
    assert summary.counted == 3
    assert round(summary.rate) == 67
    assert outbox("attendance_threshold_parent")  # 2 of 3 < 75%, nothing left to attend
