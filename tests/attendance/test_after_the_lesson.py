"""Lesson notes, incidents and substitutes, through their services and permissions: the rules,
the refusals, and the boundaries (a substitute's access ends with the assignment)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.attendance import incidents, lesson_notes, substitutes
from lms.attendance.models import Incident
from lms.attendance.permissions import can_view_incident, can_view_roster, marking_refusal
from lms.errors import DomainError
from lms.extensions import db
from lms.families.data_rights import child_erasure_preview, erase_child, export_family, purge
from lms.families.models import AccessKind, MedicalAccessLog
from lms.families.permissions import can_view_safeguarding
from lms.notifications.models import OutboxMessage
from tests.attendance.conftest import NOW, TODAY, add_child, local
from tests.conftest import PASSWORD


def _outbox(template: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)))


# ---------------------------------------------------------------------------------------------
# Lesson notes


def test_the_instructor_writes_the_note_and_the_families_read_it(ctx, term):
    lesson = term.lesson(5)
    note = lesson_notes.write_note(
        lesson, actor=term.get(term.lead), body="  Nous avons construit un robot suiveur.  "
    )
    assert note.body == "Nous avons construit un robot suiveur."
    assert lesson_notes.notes_for_child(term.child(0)) == [note]
    lesson_notes.edit_note(note, actor=term.get(term.lead), body="Apportez une clé USB.")
    assert note.body == "Apportez une clé USB."
    assert note.edited_at is not None


@pytest.mark.parametrize("body", ["", "   ", "x" * 2001])
def test_an_empty_or_too_long_note_is_refused_on_its_field(ctx, term, body):
    with pytest.raises(DomainError) as refused:
        lesson_notes.write_note(term.lesson(5), actor=term.get(term.lead), body=body)
    assert refused.value.field == "body"


def test_an_instructor_of_another_group_cannot_write_the_note(ctx, term):
    with pytest.raises(DomainError, match="Only the group's instructors"):
        lesson_notes.write_note(term.lesson(5), actor=term.get(term.outsider), body="Bonjour")


def test_one_note_per_lesson(ctx, term):
    lesson_notes.write_note(term.lesson(5), actor=term.get(term.lead), body="Un")
    with pytest.raises(DomainError, match="already written"):
        lesson_notes.write_note(term.lesson(5), actor=term.get(term.assistant), body="Deux")


def test_no_note_before_the_lesson_starts(ctx, term):
    with pytest.raises(DomainError, match="once the lesson has started"):
        lesson_notes.write_note(term.lesson(6), actor=term.get(term.lead), body="Bientôt")


# ---------------------------------------------------------------------------------------------
# Incidents


def _record(term, child_index=0, **options):
    values = {
        "actor": term.get(term.lead),
        "occurred_at": NOW - timedelta(minutes=10),
        "what_happened": "Chute dans l'escalier",
        "action_taken": "Glace sur le genou",
        "who_was_told": "La coordinatrice",
        "notify_parents": True,
    } | options
    return incidents.record_incident(term.lesson(5), term.child(child_index), **values)


def test_an_incident_is_recorded_and_the_parents_told_naming_the_child(ctx, term):
    incident = _record(term)
    assert incident.parents_notified_at is not None
    [message] = _outbox("incident_recorded")
    assert message.recipient_user_id == term.parent.id
    assert "Yasmine" in message.subject
    assert message.urgent


def test_without_notifying_nobody_is_told(ctx, term):
    incident = _record(term, notify_parents=False)
    assert incident.parents_notified_at is None
    assert _outbox("incident_recorded") == []


def test_an_incident_for_a_child_not_in_the_lesson_is_refused(ctx, term):
    lesson = term.lesson(5)
    with pytest.raises(DomainError, match="not enrolled"):
        incidents.record_incident(
            lesson,
            _stranger(term),
            actor=term.get(term.lead),
            occurred_at=NOW,
            what_happened="x",
            action_taken="y",
            notify_parents=False,
        )


def _stranger(term):
    child = add_child(term.other_parent.id, "Sami", "Berrada")
    db.session.flush()
    return child


@pytest.mark.parametrize("field", ["what_happened", "action_taken"])
def test_an_incident_needs_what_happened_and_what_was_done(ctx, term, field):
    with pytest.raises(DomainError) as refused:
        _record(term, **{field: " "})
    assert refused.value.field == field


def test_only_the_coordinators_and_the_childs_parents_read_incidents(ctx, term):
    incident = _record(term)
    child = incident.child
    assert can_view_incident(term.get(term.parent), child)
    assert can_view_incident(term.get(term.coordinator), child)
    assert not can_view_incident(term.get(term.other_parent), child)
    assert not can_view_incident(term.get(term.lead), child)
    with pytest.raises(DomainError):
        incidents.incidents_for(child, viewer=term.get(term.other_parent))


def test_a_coordinators_reading_of_incidents_is_in_the_childs_access_log(ctx, term):
    child = _record(term).child
    assert incidents.incidents_for(child, viewer=term.get(term.coordinator))
    entry = db.session.scalar(select(MedicalAccessLog).where(MedicalAccessLog.child_id == child.id))
    assert entry.staff_id == term.coordinator.id
    assert entry.what == AccessKind.INCIDENT


def test_incidents_are_in_the_family_export_and_deleted_after_five_years(ctx, term):
    _record(term)
    export = export_family(term.get(term.parent))
    assert "Chute dans l'escalier" in str(export)
    purge(now=NOW + timedelta(days=365 * 4))
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 1
    report = purge(now=NOW + timedelta(days=365 * 5 + 2))
    assert report.deleted == {"incident records": 1}
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0


def test_an_erased_child_keeps_its_incident_records_until_their_retention_ends(ctx, term):
    incident = _record(term)
    child = incident.child
    preview = child_erasure_preview(child, actor=term.get(term.parent))
    assert any("five years" in str(line) for line in preview.from_other_domains)
    erase_child(child, actor=term.get(term.parent), password=PASSWORD)
    assert db.session.get(Incident, incident.id) is not None
    assert not can_view_incident(term.get(term.parent), child)


# ---------------------------------------------------------------------------------------------
# Substitutes


def _assign(term, first_day=TODAY, last_day=None, who=None):
    return substitutes.assign_substitute(
        term.cohort(),
        substitute=term.get(who or term.outsider),
        first_day=first_day,
        last_day=last_day,
        actor=term.get(term.coordinator),
    )


def test_a_substitute_reads_the_roster_on_the_assigned_day_only(ctx, term, frozen_now):
    substitute = term.get(term.outsider)
    lesson = term.lesson(5)
    assert not can_view_roster(substitute, lesson)
    _assign(term)
    assert can_view_roster(substitute, lesson)
    assert marking_refusal(substitute, lesson, now=NOW) is None
    assert can_view_safeguarding(substitute, term.child(0))
    assert not can_view_roster(substitute, term.lesson(6))  # another day: not assigned
    # The day after the assignment ends, the access has ended.
    frozen_now.move_to(local(TODAY + timedelta(days=1), 0, 1))
    assert not can_view_roster(substitute, lesson)
    assert marking_refusal(substitute, lesson, now=local(TODAY + timedelta(days=1), 0, 1))
    assert not can_view_safeguarding(substitute, term.child(0))


def test_over_a_range_each_lesson_opens_on_its_own_day(ctx, term, frozen_now):
    substitute = term.get(term.outsider)
    _assign(term, last_day=TODAY + timedelta(days=7))
    assert can_view_roster(substitute, term.lesson(5))
    assert not can_view_roster(substitute, term.lesson(6))  # next week's, not yet
    frozen_now.move_to(local(TODAY + timedelta(days=7), 14, 0))
    assert can_view_roster(substitute, term.lesson(6))
    assert not can_view_roster(substitute, term.lesson(5))  # last week's, no longer
    frozen_now.move_to(local(TODAY + timedelta(days=8), 0, 0))
    assert not can_view_roster(substitute, term.lesson(6))  # the assignment is over


def test_the_families_are_told_who_will_teach(ctx, term):
    _assign(term, last_day=TODAY + timedelta(days=7))
    messages = _outbox("substitute_assigned")
    assert {m.recipient_user_id for m in messages} == {term.parent.id, term.other_parent.id}
    assert all("Mehdi Ouazzani" in m.subject for m in messages)


def test_the_substitutes_lessons_are_in_their_list(ctx, term):
    _assign(term, last_day=TODAY + timedelta(days=7))
    lessons = substitutes.substitute_lessons(term.get(term.outsider), TODAY, TODAY)
    assert [lesson.id for lesson in lessons] == [term.lesson_ids[4]]


def test_a_reversed_range_is_refused(ctx, term):
    with pytest.raises(DomainError, match="before the first day") as refused:
        _assign(term, first_day=TODAY + timedelta(days=7), last_day=TODAY)
    assert refused.value.field == "last_day"


def test_a_parent_cannot_be_a_substitute(ctx, term):
    with pytest.raises(DomainError, match="Choose an instructor") as refused:
        _assign(term, who=term.parent)
    assert refused.value.field == "substitute"


def test_days_without_a_lesson_or_gone_by_are_refused(ctx, term):
    with pytest.raises(DomainError, match="no lesson"):
        _assign(term, first_day=TODAY + timedelta(days=1))
    with pytest.raises(DomainError, match="days gone by"):
        _assign(term, first_day=TODAY - timedelta(days=7))


def test_ending_an_assignment_ends_the_access_at_once(ctx, term):
    assignment = _assign(term)
    substitutes.cancel_assignment(assignment, actor=term.get(term.coordinator))
    assert not can_view_roster(term.get(term.outsider), term.lesson(5))


def test_ending_an_assignment_tells_the_families_of_the_lessons_still_to_come(
    ctx, term, frozen_now
):
    assignment = _assign(term, last_day=TODAY + timedelta(days=7))
    substitutes.cancel_assignment(assignment, actor=term.get(term.coordinator))
    messages = _outbox("substitute_cancelled")
    assert {m.recipient_user_id for m in messages} == {term.parent.id, term.other_parent.id}
    assert all("Mehdi Ouazzani" in m.subject for m in messages)


def test_an_assignment_ended_after_its_last_lesson_tells_nobody(ctx, term, frozen_now):
    assignment = _assign(term)  # today's lesson only
    frozen_now.move_to(local(TODAY + timedelta(days=1), 9, 0))
    substitutes.cancel_assignment(assignment, actor=term.get(term.coordinator))
    assert _outbox("substitute_cancelled") == []


def test_a_substitutes_roster_reading_is_logged_per_child(ctx, term):
    _assign(term)
    count = substitutes.log_substitute_reading(
        term.lesson(5), term.child_ids, viewer=term.get(term.outsider)
    )
    assert count == 3
    kinds = db.session.scalars(
        select(MedicalAccessLog.what).where(MedicalAccessLog.staff_id == term.outsider.id)
    )
    assert set(kinds) == {AccessKind.ROSTER}
