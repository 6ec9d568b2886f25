"""Coordinators see what the outbox sent, what it is retrying and what failed."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lms.extensions import db
from lms.notifications import services
from lms.notifications.models import OutboxMessage, OutboxStatus
from lms.querystring import arg_choice, paginate
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("notifications", __name__, url_prefix="/coordinator/outbox")


@bp.get("/")
@role_required(Role.COORDINATOR)
def outbox():
    status = arg_choice("status", OutboxStatus.__members__.values())
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status:
        query = query.where(OutboxMessage.status == status)
    unconfirmed = arg_choice("unconfirmed", ("1",)) == "1"
    if unconfirmed:
        query = query.where(OutboxMessage.unconfirmed_address.is_(True))
    page = paginate(query, per_page=50, max_per_page=200)
    return render_template(
        "notifications/outbox.html",
        page=page,
        status=status,
        statuses=list(OutboxStatus),
        unconfirmed=unconfirmed,
    )


@bp.post("/<int:message_id>/retry")
@role_required(Role.COORDINATOR)
def retry(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    services.retry_message(message)
    flash(_("The message will be sent again."), "success")
    return redirect(
        url_for(
            "notifications.outbox", status=arg_choice("status", OutboxStatus.__members__.values())
        )
    )
