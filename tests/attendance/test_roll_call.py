"""The roll call: who may mark and when, what is written, the history, two instructors saving
the same roster, coordinators' corrections, and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lms.attendance.models import AttendanceChange, AttendanceMark
from lms.attendance.queries import lesson_history
from lms.attendance.roll_call import MarkEntry, save_roll_call
from lms.audit.models import AuditEntry
from lms.courses.models import Lesson, LessonStatus
from lms.errors import DomainError
from lms.extensions import db
from tests.attendance.conftest import entries, mark


def marks_of(lesson_id: int) -> dict[int, str]:
    return {
        m.child_id: m.status
        for m in db.session.scalars(
            select(AttendanceMark).where(AttendanceMark.lesson_id == lesson_id)
        )
    }


def save(term, number, pairs, *, by=None, now=None, seen=None, reason=None):
    lesson = term.lesson(number)
    return save_roll_call(
        lesson,
        actor=term.get(by or term.lead),
        entries=entries(*[(term.child_ids[i], s) for i, s in pairs.items()], seen=seen),
        now=now,
        reason=reason,
    )


# ---------------------------------------------------------------------------------------------
# The window


@pytest.mark.parametrize(
    ("offset", "allowed"),
    [
        (timedelta(minutes=-31), False),
        (timedelta(minutes=-30), True),
        (timedelta(minutes=0), True),
        (timedelta(days=7, minutes=90), True),  # a week after the end (90-minute lesson)
        (timedelta(days=7, minutes=91), False),
    ],
)
def test_instructors_mark_from_30_minutes_before_until_7_days_after(
    ctx, term, frozen_now, offset, allowed
):
    lesson = term.lesson(5)
    frozen_now.move_to(lesson.starts_at + offset)
    for instructor in (term.lead, term.assistant):
        if allowed:
            save(term, 5, {0: "present"}, by=instructor)
        else:
            with pytest.raises(DomainError):
                save(term, 5, {0: "present"}, by=instructor)


def test_after_the_window_only_a_coordinator_corrects_with_a_reason(ctx, term, frozen_now):
    mark(term, 1, {0: "absent"})
    frozen_now.move_to(term.lesson(1).ends_at + timedelta(days=8))
    with pytest.raises(DomainError, match="Ask a coordinator"):
        save(term, 1, {0: "present"}, seen={term.child_ids[0]: (1, "absent")})
    with pytest.raises(DomainError, match="Say why") as refused:
        save(term, 1, {0: "present"}, by=term.coordinator, seen={term.child_ids[0]: (1, "absent")})
    assert refused.value.field == "reason"
    save(
        term,
        1,
        {0: "present"},
        by=term.coordinator,
        seen={term.child_ids[0]: (1, "absent")},
        reason="  Le registre papier   le confirme ",
    )
    change = db.session.scalars(
        select(AttendanceChange).order_by(AttendanceChange.id.desc())
    ).first()
    assert (change.before, change.after, change.source) == ("absent", "present", "correction")
    assert change.reason == "Le registre papier le confirme"
    assert change.changed_by_id == term.coordinator.id


def test_coordinators_mark_within_the_window_as_a_roll_call(ctx, term):
    save(term, 5, {0: "present"}, by=term.coordinator)
    change = db.session.scalars(select(AttendanceChange)).one()
    assert change.source == "roll_call"


def test_no_marks_for_future_lessons(ctx, term):
    with pytest.raises(DomainError, match="30 minutes before"):
        save(term, 6, {0: "present"}, by=term.coordinator)


def test_no_marks_for_cancelled_lessons(ctx, term):
    db.session.execute(
        update(Lesson).where(Lesson.id == term.lesson_ids[4]).values(status=LessonStatus.CANCELLED)
    )
    with pytest.raises(DomainError, match="cancelled"):
        save(term, 5, {0: "present"}, by=term.coordinator)


def test_no_marks_for_children_not_enrolled_on_the_date(ctx, term):
    from tests.attendance.conftest import add_child
    from tests.builders import enrol

    stranger = add_child(term.parent.id, "Ilyas", "Berrada")
    with pytest.raises(DomainError, match="not enrolled"):
        save_roll_call(
            term.lesson(5), actor=term.get(term.lead), entries=entries((stranger.id, "present"))
        )
    # Enrolled after the lesson started: not on that lesson's roster either.
    enrol(stranger.id, term.cohort_id, at=term.lesson(5).starts_at + timedelta(minutes=5))
    with pytest.raises(DomainError, match="not enrolled"):
        save_roll_call(
            term.lesson(5), actor=term.get(term.lead), entries=entries((stranger.id, "present"))
        )
    assert marks_of(term.lesson_ids[4]) == {}


@pytest.mark.parametrize("who", ["outsider", "parent", "other_parent"])
def test_only_the_cohorts_instructors_and_coordinators_mark(ctx, term, who):
    with pytest.raises(DomainError, match="Only the cohort's instructors"):
        save(term, 5, {0: "present"}, by=getattr(term, who))


def test_an_unknown_status_is_refused(ctx, term):
    with pytest.raises(DomainError, match="Choose present"):
        save_roll_call(
            term.lesson(5),
            actor=term.get(term.lead),
            entries={term.child_ids[0]: MarkEntry("here")},
        )


# ---------------------------------------------------------------------------------------------
# What is written, and the history


def test_one_mark_per_child_and_lesson_and_every_change_kept(ctx, term):
    result = save(term, 5, {0: "present", 1: "present", 2: "present"})
    assert result.written == 3
    ids = term.child_ids
    seen = dict.fromkeys(ids, (1, "present"))
    result = save(term, 5, {0: "present", 1: "late", 2: "absent"}, seen=seen, by=term.assistant)
    assert result.written == 2
    assert marks_of(term.lesson_ids[4]) == {ids[0]: "present", ids[1]: "late", ids[2]: "absent"}
    assert db.session.scalar(select(db.func.count()).select_from(AttendanceMark)) == 3
    history = lesson_history(term.lesson(5))
    assert [(c.mark.child_id, c.before, c.after, c.changed_by_id) for c in history[:2]] == [
        (ids[2], "present", "absent", term.assistant.id),
        (ids[1], "present", "late", term.assistant.id),
    ]
    assert len(history) == 5
    assert all(c.changed_at is not None for c in history)
    version = db.session.scalar(
        select(AttendanceMark.version).where(AttendanceMark.child_id == ids[1])
    )
    assert version == 2


def test_unchanged_and_blank_rows_are_not_written(ctx, term):
    save(term, 5, {0: "present"})
    seen = {term.child_ids[0]: (1, "present")}
    result = save(term, 5, {0: "present", 1: None}, seen=seen)
    assert result.written == 0
    assert len(lesson_history(term.lesson(5))) == 1


def test_the_database_holds_one_mark_per_child_and_lesson(ctx, term):
    from sqlalchemy.exc import IntegrityError

    save(term, 5, {0: "present"})
    db.session.add(
        AttendanceMark(lesson_id=term.lesson_ids[4], child_id=term.child_ids[0], status="late")
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# ---------------------------------------------------------------------------------------------
# Two instructors, one roster


def test_the_later_save_wins_for_the_marks_it_changed(ctx, term):
    ids = term.child_ids
    shown = {}  # both open the empty roster
    # Youssef marks everyone present; Salma, from the same empty page, marks Adam late and
    # leaves the others blank.
    first = save(term, 5, {0: "present", 1: "present", 2: "present"}, seen=shown)
    assert first.others == []
    second = save(term, 5, {1: "late"}, seen=shown, by=term.assistant)
    assert marks_of(term.lesson_ids[4]) == {ids[0]: "present", ids[1]: "late", ids[2]: "present"}
    assert second.written == 1
    assert second.applied_on_top == 1
    assert [o.name for o in second.others] == ["Youssef Benali"]
    history = lesson_history(term.lesson(5))
    assert {c.changed_by_id for c in history} == {term.lead.id, term.assistant.id}
    adam = [(c.before, c.after) for c in history if c.mark.child_id == ids[1]]
    assert adam == [("present", "late"), (None, "present")]


def test_a_save_that_changed_nothing_of_the_others_keeps_their_marks(ctx, term):
    ids = term.child_ids
    save(term, 5, {0: "present", 1: "present", 2: "present"})
    opened = dict.fromkeys(ids, (1, "present"))
    # Salma opens the roster; Youssef then marks Rania absent.
    save(term, 5, {2: "absent"}, seen=opened)
    # Salma marks Yasmine late; her form still says Rania is present, but she did not touch it.
    result = save(term, 5, {0: "late", 1: "present", 2: "present"}, seen=opened, by=term.assistant)
    assert marks_of(term.lesson_ids[4])[ids[2]] == "absent"
    assert marks_of(term.lesson_ids[4])[ids[0]] == "late"
    assert result.written == 1
    assert result.applied_on_top == 0
    assert [o.name for o in result.others] == ["Youssef Benali"]


def test_the_same_change_twice_is_written_once(ctx, term):
    save(term, 5, {0: "absent"})
    result = save(term, 5, {0: "absent"}, by=term.assistant)
    assert result.written == 0
    assert len(lesson_history(term.lesson(5))) == 1


# ---------------------------------------------------------------------------------------------
# Audit


def test_the_audit_log_holds_ids_and_statuses_only(ctx, term):
    save(term, 5, {0: "present", 2: "absent"})
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "attendance.roll_call")
    ).one()
    assert entry.actor_id == term.lead.id
    assert (entry.subject_type, entry.subject_id) == ("lessons", term.lesson_ids[4])
    assert entry.details["source"] == "roll_call"
    assert entry.details["changes"] == [
        {"child_id": term.child_ids[0], "before": None, "after": "present"},
        {"child_id": term.child_ids[2], "before": None, "after": "absent"},
    ]
    text = str(entry.details)
    for name in ("Yasmine", "Rania", "Alaoui", "Tazi"):
        assert name not in text
