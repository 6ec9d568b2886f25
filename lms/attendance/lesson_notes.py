"""Lesson notes: after a lesson, its instructor (or the substitute) says in a few lines what the
group built and what to bring next time; the families of the children on that lesson's roster
read it on their child's page, as written."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.attendance.models import NOTE_MAX, LessonNote
from lms.attendance.permissions import can_write_lesson_note
from lms.attendance.roster import enrolled_at_instant
from lms.audit import services as audit
from lms.courses.models import Cohort, Lesson
from lms.database import utcnow
from lms.enrolment.models import Enrolment
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child


def note_of(lesson: Lesson) -> LessonNote | None:
    """The lesson's note, if one was written."""
    return db.session.scalar(
        select(LessonNote)
        .where(LessonNote.lesson_id == lesson.id)
        .options(joinedload(LessonNote.author))
    )


def _clean_body(body: str | None) -> str:
    body = (body or "").strip()
    if not body:
        raise DomainError(_l("Write a few words about the lesson."), field="body")
    if len(body) > NOTE_MAX:
        raise DomainError(_l("At most %(max)d characters.", max=NOTE_MAX), field="body")
    return body


def _check_writer(lesson: Lesson, actor: User, now: datetime) -> None:
    if not can_write_lesson_note(actor, lesson, now=now):
        raise DomainError(
            _l("Only the group's instructors, or its substitute that day, write its notes.")
        )
    if lesson.is_cancelled:
        raise DomainError(_l("This lesson is cancelled: there is nothing to tell about it."))
    if now < lesson.starts_at:
        raise DomainError(_l("A note can be written once the lesson has started."))


def write_note(
    lesson: Lesson, *, actor: User, body: str | None, now: datetime | None = None
) -> LessonNote:
    """The lesson's note, written now (one per lesson: the second writer is refused)."""
    now = now or utcnow()
    _check_writer(lesson, actor, now)
    body = _clean_body(body)
    existing = note_of(lesson)
    if existing is not None:
        raise _already_written(existing)
    note = LessonNote(lesson_id=lesson.id, author_id=actor.id, body=body, written_at=now)
    try:
        # Another instructor of the group may be saving this lesson's note at this moment:
        # the unique lesson decides, and the second one is told who wrote it.
        with db.session.begin_nested():
            db.session.add(note)
    except IntegrityError:
        raise _already_written(note_of(lesson)) from None
    audit.record("attendance.lesson_note_written", actor=actor, subject=lesson)
    return note


def edit_note(
    note: LessonNote, *, actor: User, body: str | None, now: datetime | None = None
) -> LessonNote:
    """Change the note's words: its author only, while they may still write it."""
    now = now or utcnow()
    if note.author_id != actor.id:
        raise DomainError(_l("Only the note's author can change it."))
    _check_writer(note.lesson, actor, now)
    body = _clean_body(body)
    if body != note.body:
        note.body = body
        note.edited_at = now
        db.session.flush()
        audit.record("attendance.lesson_note_edited", actor=actor, subject=note.lesson)
    return note


def _already_written(note: LessonNote | None) -> DomainError:
    name = note.author.full_name if note is not None and note.author else "—"
    return DomainError(_l("%(name)s has already written this lesson's note.", name=name))


def notes_for_child(child: Child, *, limit: int = 10) -> list[LessonNote]:
    """The notes of the lessons the child was on the roster of, newest first: what the
    child's family reads."""
    return list(
        db.session.scalars(
            select(LessonNote)
            .join(Lesson, Lesson.id == LessonNote.lesson_id)
            .join(Enrolment, Enrolment.cohort_id == Lesson.cohort_id)
            .where(Enrolment.child_id == child.id, enrolled_at_instant(Lesson.starts_at))
            .options(
                joinedload(LessonNote.author),
                joinedload(LessonNote.lesson).joinedload(Lesson.cohort).joinedload(Cohort.course),
            )
            .order_by(Lesson.starts_at.desc(), LessonNote.id.desc())
            .limit(limit)
        ).unique()
    )
