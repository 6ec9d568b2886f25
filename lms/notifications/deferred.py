"""Messages written by the worker: the request queues what a message needs, not its text.

On registration day the request that takes a seat should not spend its time rendering the
confirmation e-mail and the group's calendar file. ``queue_email_later`` stores the template,
the language and the context (rows by reference, plain values as they are) in the outbox row;
the worker renders it in the recipient's language just before sending (``render_pending``),
with attachments built by the builders that the domains register by name.

Rows are referenced by class name and primary key (``{"$row": "Enrolment", "id": 7}``), found
through the declarative registry, so this infrastructure module imports no domain. A row gone
by then (a child erased) makes the message fail, and the outbox records it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import inspect

from lms.database import utcnow
from lms.extensions import db
from lms.notifications.models import OutboxAttachment, OutboxMessage
from lms.notifications.services import Attachment, Routing, add_to_outbox, render_email

# name -> function(language, **arguments) -> attachments; filled by the domains' wiring.
AttachmentBuilder = Callable[..., tuple[Attachment, ...]]
_builders: dict[str, AttachmentBuilder] = {}
# name -> function(**arguments) -> more context, computed when the message is written.
ContextBuilder = Callable[..., dict]
_context_builders: dict[str, ContextBuilder] = {}


class MissingRow(LookupError):
    """A row a queued message refers to no longer exists."""


def register_attachment_builder(name: str, builder: AttachmentBuilder) -> AttachmentBuilder:
    """Let messages ask for attachments named ``name`` (idempotent)."""
    _builders[name] = builder
    return builder


def register_context_builder(name: str, builder: ContextBuilder) -> ContextBuilder:
    """Let messages ask for context named ``name``, computed by the worker (idempotent)."""
    _context_builders[name] = builder
    return builder


def _dump(value):
    if isinstance(value, db.Model):
        mapper = inspect(value).mapper
        [key] = mapper.primary_key_from_instance(value)
        return {"$row": mapper.class_.__name__, "id": key}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, list | tuple):
        return [_dump(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _dump(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot queue a {type(value).__name__} in a deferred message")


def _model(name: str):
    for mapper in db.Model.registry.mappers:
        if mapper.class_.__name__ == name:
            return mapper.class_
    raise MissingRow(name)


def _load(value):
    if isinstance(value, list):
        return [_load(item) for item in value]
    if isinstance(value, dict):
        if "$row" in value:
            row = db.session.get(_model(value["$row"]), value["id"])
            if row is None:
                raise MissingRow(f"{value['$row']} {value['id']}")
            return row
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$decimal" in value:
            return Decimal(value["$decimal"])
        return {key: _load(item) for key, item in value.items()}
    return value


def queue_email_later(
    *,
    to: str,
    template: str,
    language: str,
    user_id: int | None = None,
    unconfirmed_address: bool = False,
    attachments: tuple[tuple[str, dict], ...] = (),
    extras: tuple[tuple[str, dict], ...] = (),
    routing: Routing | None = None,
    **context,
) -> OutboxMessage:
    """Queue an e-mail that the worker renders; ``attachments`` and ``extras`` (more context)
    are (builder name, arguments) pairs, built by the worker too. ``routing`` places it among
    the channels of one message (lms/accounts/contact.py ``notify``)."""
    message = OutboxMessage(
        **(routing or Routing()).columns(),
        recipient=to,
        recipient_user_id=user_id,
        unconfirmed_address=unconfirmed_address,
        template=template,
        language=language,
        subject="",
        body="",
        context_json=json.dumps(
            {
                "context": _dump(context),
                "attachments": [[name, _dump(args)] for name, args in attachments],
                "extras": [[name, _dump(args)] for name, args in extras],
            }
        ),
        created_at=utcnow(),
    )
    return add_to_outbox(message)


def _write(message: OutboxMessage) -> tuple[str, str, list[Attachment]]:
    stored = json.loads(message.context_json)
    context = _load(stored["context"])
    for name, arguments in stored.get("extras", []):
        context.update(_context_builders[name](**_load(arguments)))
    subject, body = render_email(message.template, message.language, **context)
    attachments = [
        attachment
        for name, arguments in stored["attachments"]
        for attachment in _builders[name](message.language, **_load(arguments))
    ]
    return subject[:200], body, attachments


def render_pending(message: OutboxMessage) -> None:
    """Write the message's text and attachments now, if the request left them to the worker.

    Everything is computed before anything is set, so a failure leaves the row as it was.
    """
    if not message.context_json:
        return
    subject, body, attachments = _write(message)
    message.subject = subject
    message.body = body
    message.attachments.extend(
        OutboxAttachment(filename=a.filename, content_type=a.content_type, content=a.content)
        for a in attachments
    )
    message.context_json = None


def preview(message: OutboxMessage) -> OutboxMessage:
    """The message as the worker will write it, as a copy outside the session (the row is left
    as it is): for pages and tests that show a message not sent yet."""
    if not message.context_json:
        return message
    subject, body, attachments = _write(message)
    return OutboxMessage(
        id=message.id,
        recipient=message.recipient,
        recipient_user_id=message.recipient_user_id,
        template=message.template,
        language=message.language,
        status=message.status,
        subject=subject,
        body=body,
        attachments=[
            OutboxAttachment(filename=a.filename, content_type=a.content_type, content=a.content)
            for a in attachments
        ],
    )
