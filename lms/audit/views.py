"""The coordinators' audit page: filterable, paginated."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request

from lms.audit import services
from lms.audit.forms import AuditFilterForm
from lms.forms import choices
from lms.querystring import paginate
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("audit", __name__, url_prefix="/coordinator/audit")


def _local_midnight(day) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(), tzinfo=zone)


@bp.get("/")
@role_required(Role.COORDINATOR)
def entries():
    form = AuditFilterForm(request.args)
    form.action.choices = choices(
        [("", "—"), *((action, action) for action in services.known_actions())]
    )
    filters = {}
    unknown_actor = False
    if form.validate():
        if form.actor.data:
            actor_id = services.actor_id_for_email(form.actor.data)
            unknown_actor = actor_id is None
            filters["actor_id"] = actor_id if actor_id is not None else -1
        filters.update(
            action=form.action.data or None,
            subject_type=form.subject_type.data or None,
            subject_id=form.subject_id.data,
            since=_local_midnight(form.since.data) if form.since.data else None,
            until=_local_midnight(form.until.data) + timedelta(days=1) if form.until.data else None,
        )
    query = services.audit_query(**filters)
    page = paginate(query, per_page=50, max_per_page=200)
    return render_template(
        "audit/entries.html", form=form, page=page, unknown_actor=unknown_actor
    ), (200 if not form.errors else 422)
