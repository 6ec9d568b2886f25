"""Write to families: who receives a message, its preview, sending it through the outbox, and
where the copies are read again (the cohort's page, the parents' dashboard)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, exists, func, or_, select
from sqlalchemy.orm import selectinload

from lms.accounts.contact import cohort_topic, notify
from lms.accounts.models import User
from lms.audit import services as audit
from lms.courses.models import PUBLIC_COHORT_STATUSES, Cohort, CohortInstructor, Course
from lms.courses.terms import Term
from lms.database import utcnow
from lms.enrolment.models import SEAT_STATUSES, Enrolment, EnrolmentStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Guardianship
from lms.i18n import babel_locale_for
from lms.messaging.models import (
    BODY_MAX,
    SUBJECT_MAX,
    Audience,
    Message,
    MessageRecipient,
    message_cohorts,
)
from lms.messaging.permissions import can_message_cohort, can_message_widely
from lms.notifications.services import external_url, render_email
from lms.roles import Role

TEMPLATE = "family_message"


@dataclass
class Draft:
    """A message checked and ready to send: its audience, text and recipients."""

    audience: str
    subject: str
    body: str
    cohort: Cohort | None = None
    course: Course | None = None
    term: Term | None = None
    cohorts: list[Cohort] = field(default_factory=list)
    recipients: list[User] = field(default_factory=list)


def clean_subject(subject: str | None) -> str:
    """One line, single spaces: a subject never carries a line break into the e-mail header."""
    return " ".join((subject or "").split())


def clean_body(body: str | None) -> str:
    """Line ends as ``\\n``, no trailing spaces, no blank lines around the text."""
    lines = (body or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def audience_cohorts(
    audience: str, *, cohort: Cohort | None = None, course: Course | None = None, term=None
) -> list[Cohort]:
    """The cohorts a message concerns (for the waiting lists: those with a child waiting)."""
    if audience == Audience.COHORT:
        return [cohort] if cohort is not None else []
    if audience == Audience.COURSE:
        if course is None or term is None:
            return []
        return list(
            db.session.scalars(
                select(Cohort)
                .where(
                    Cohort.course_id == course.id,
                    Cohort.status.in_(PUBLIC_COHORT_STATUSES),
                    Cohort.starting_in(term),
                )
                .order_by(Cohort.start_date, Cohort.id)
            )
        )
    return list(
        db.session.scalars(
            select(Cohort)
            .where(Cohort.waitlist_count > 0, Cohort.status.in_(PUBLIC_COHORT_STATUSES))
            .order_by(Cohort.start_date, Cohort.id)
        )
    )


def recipients_of(audience: str, cohorts: Sequence[Cohort]) -> list[User]:
    """Each parent once, even with several children: the active guardians of the children who
    hold a seat (enrolled, or offered one) in the cohorts, or, for the waiting lists, of the
    children waiting. Families on a cohort's waiting list are not written to about the cohort."""
    if not cohorts:
        return []
    statuses = (
        (EnrolmentStatus.WAITLISTED,) if audience == Audience.WAITING_LISTS else SEAT_STATUSES
    )
    children = select(Enrolment.child_id).where(
        Enrolment.cohort_id.in_([cohort.id for cohort in cohorts]),
        Enrolment.status.in_(statuses),
    )
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role == Role.PARENT,
                User.active.is_(True),
                exists().where(
                    Guardianship.user_id == User.id, Guardianship.child_id.in_(children)
                ),
            )
            .order_by(User.id)
        )
    )


def prepare(
    *,
    actor: User,
    audience: str,
    subject: str | None,
    body: str | None,
    cohort: Cohort | None = None,
    course: Course | None = None,
    term: Term | None = None,
) -> Draft:
    """Check who may write to whom and what was written; find the recipients."""
    if audience not in Audience.__members__.values():
        raise DomainError(_l("Choose who the message is for."), field="audience")
    if audience == Audience.COHORT:
        if cohort is None:
            raise DomainError(_l("Choose a cohort."), field="cohort")
        if not can_message_cohort(actor, cohort):
            raise DomainError(
                _l("You can write only to the families of the cohorts you teach."),
                field="cohort",
            )
    elif not can_message_widely(actor):
        raise DomainError(
            _l("Only a coordinator can write to a whole course or to the waiting lists."),
            field="audience",
        )
    if audience == Audience.COURSE and (course is None or term is None):
        raise DomainError(_l("Choose a course and a term."), field="course")
    subject, body = clean_subject(subject), clean_body(body)
    if not subject:
        raise DomainError(_l("Write a subject."), field="subject")
    if len(subject) > SUBJECT_MAX:
        raise DomainError(
            _l("The subject is too long (at most %(num)d characters).", num=SUBJECT_MAX),
            field="subject",
        )
    if not body.strip():
        raise DomainError(_l("Write the message."), field="body")
    if len(body) > BODY_MAX:
        raise DomainError(
            _l("The message is too long (at most %(num)d characters).", num=BODY_MAX),
            field="body",
        )
    cohorts = audience_cohorts(audience, cohort=cohort, course=course, term=term)
    recipients = recipients_of(audience, cohorts)
    if not recipients:
        raise DomainError(_l("No family would receive this message: nobody to write to yet."))
    return Draft(
        audience=audience,
        subject=subject,
        body=body,
        cohort=cohort if audience == Audience.COHORT else None,
        course=course if audience == Audience.COURSE else None,
        term=term if audience == Audience.COURSE else None,
        cohorts=cohorts,
        recipients=recipients,
    )


def _email_context(draft: Draft, author: User) -> dict:
    return {
        "subject": draft.subject,
        "body": draft.body,
        "author_name": author.full_name,
        "audience": draft.audience,
        "cohort": draft.cohort,
        "course": draft.course,
    }


@dataclass(frozen=True)
class _Reader:
    """Who the preview is addressed to: a placeholder parent."""

    full_name: str


def preview(draft: Draft, *, actor: User, language: str) -> tuple[str, str]:
    """The e-mail as a parent reading ``language`` would receive it: (subject, text)."""
    return render_email(
        TEMPLATE,
        language,
        user=_Reader(str(_l("(the parent's name)"))),
        **_email_context(draft, actor),
    )


def _short(draft: Draft):
    """The WhatsApp and SMS text's values: the group, the subject, a link to read it all."""

    def values(language: str) -> dict:
        if draft.cohort is not None:
            group = draft.cohort.course.title(language)
        elif draft.course is not None:
            group = draft.course.title(language)
        else:
            with force_locale(babel_locale_for(language)):
                group = str(_l("waiting lists"))
        return {
            "group": group,
            "subject": draft.subject,
            "link": external_url("messaging.family_messages"),
        }

    return values


def send(draft: Draft, *, actor: User) -> Message:
    """Queue the message to each parent on the channels they chose (the full text by e-mail, a
    short one with a link by WhatsApp or SMS), in the parent's language; keep a copy; audit."""
    message = Message(
        author_id=actor.id,
        audience=draft.audience,
        cohort_id=draft.cohort.id if draft.cohort else None,
        course_id=draft.course.id if draft.course else None,
        term_key=draft.term.key if draft.term else None,
        subject=draft.subject,
        body=draft.body,
        sent_at=utcnow(),
        recipient_count=len(draft.recipients),
    )
    message.cohorts = list(draft.cohorts)
    db.session.add(message)
    db.session.flush()
    context = _email_context(draft, actor)
    topic = cohort_topic(draft.cohort.id) if draft.cohort else None
    for user in draft.recipients:
        notify(user, TEMPLATE, short=_short(draft), topic=topic, **context)
    db.session.execute(
        MessageRecipient.__table__.insert(),
        [{"message_id": message.id, "user_id": user.id} for user in draft.recipients],
    )
    audit.record(
        "message.sent",
        actor=actor,
        subject=message,
        audience=draft.audience,
        cohorts=[cohort.id for cohort in draft.cohorts],
        course_id=message.course_id,
        term=message.term_key,
        recipients=len(draft.recipients),
    )
    return message


# ---------------------------------------------------------------------------------------------
# Reading the copies


def _with_context(query: Select) -> Select:
    return query.options(
        selectinload(Message.author),
        selectinload(Message.cohort).selectinload(Cohort.course),
        selectinload(Message.course),
    )


def messages_for_parent(user: User, *, limit: int | None = 5) -> list[Message]:
    """What the lab wrote to this parent, newest first."""
    query = _with_context(
        select(Message)
        .join(MessageRecipient, MessageRecipient.message_id == Message.id)
        .where(MessageRecipient.user_id == user.id)
        .order_by(Message.sent_at.desc(), Message.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def parent_message_query(user: User) -> Select:
    """Every message sent to this parent, newest first (for a paginated page)."""
    return _with_context(
        select(Message)
        .join(MessageRecipient, MessageRecipient.message_id == Message.id)
        .where(MessageRecipient.user_id == user.id)
        .order_by(Message.sent_at.desc(), Message.id.desc())
    )


def messages_of_cohort(cohort: Cohort, *, limit: int = 20) -> list[Message]:
    """The cohort's history: messages that concerned it, newest first."""
    return list(
        db.session.scalars(
            _with_context(
                select(Message)
                .join(message_cohorts, message_cohorts.c.message_id == Message.id)
                .where(message_cohorts.c.cohort_id == cohort.id)
                .order_by(Message.sent_at.desc(), Message.id.desc())
                .limit(limit)
            )
        )
    )


def staff_message_query(user: User) -> Select:
    """The messages a member of staff may read: all for coordinators; for an instructor, those
    they wrote and those about the cohorts they teach."""
    query = _with_context(select(Message).order_by(Message.sent_at.desc(), Message.id.desc()))
    if user.is_coordinator:
        return query
    taught = select(message_cohorts.c.message_id).where(
        message_cohorts.c.cohort_id.in_(
            select(CohortInstructor.cohort_id).where(CohortInstructor.instructor_id == user.id)
        )
    )
    return query.where(or_(Message.author_id == user.id, Message.id.in_(taught)))


def messages_sent_between(starts, ends) -> int:
    """How many messages left between two instants."""
    return db.session.scalar(
        select(func.count(Message.id)).where(Message.sent_at >= starts, Message.sent_at < ends)
    )


def forget_recipient(user: User) -> None:
    """An erased account no longer appears among any message's recipients."""
    db.session.execute(delete(MessageRecipient).where(MessageRecipient.user_id == user.id))
