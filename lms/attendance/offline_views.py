"""The offline roll call: its page, the data the phone keeps, the sync endpoint, and what makes
it an installable web app (the manifest and the service worker, whose scope is this folder
only: no other page of the site is controlled or cached)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.attendance import offline, substitutes, sync
from lms.attendance.models import AttendanceStatus
from lms.attendance.permissions import can_view_roster, substitutes_for
from lms.attendance.roster import roster_enrolments
from lms.courses.models import Cohort, Lesson
from lms.database import utcnow
from lms.extensions import db
from lms.i18n import current_language
from lms.roles import Role
from lms.security import role_required
from lms.web import record_reading

bp = Blueprint("offline", __name__, url_prefix="/attendance/offline")

SCOPE = "/attendance/offline/"


def _private_json(payload, status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@role_required(Role.INSTRUCTOR)
def page():
    # A list, not a mapping: the buttons keep their order (tojson sorts a mapping's keys).
    statuses = [[status.value, str(label)] for status, label in AttendanceStatus.labels().items()]
    return render_template("attendance/offline.html", statuses=statuses)


@bp.get("/data.json")
@role_required(Role.INSTRUCTOR)
def data():
    now = utcnow()
    covered = [
        lesson
        for lesson in offline.offline_lessons(current_user)
        if substitutes_for(current_user, lesson, now=now)
    ]
    if covered:
        # A substitute's phone receives the rosters it covers: like opening them, each child's
        # access log says so (the one write this GET makes).
        record_reading()
        for lesson in covered:
            substitutes.log_substitute_reading(
                lesson, roster_enrolments(lesson), viewer=current_user, now=now
            )
    bundle = offline.offline_bundle(current_user, now=now)
    # The page sends its changes with this token (a cached page's token may be older).
    bundle["csrf_token"] = generate_csrf()
    return _private_json(bundle)


@bp.post("/sync")
@role_required(Role.INSTRUCTOR, Role.COORDINATOR)
def sync_changes():
    try:
        changes = sync.parse_changes(request.get_json(silent=True))
    except sync.BadChanges as error:
        return _private_json({"error": str(error)}, 400)
    ids = sync.lessons_of(changes)
    lessons = {
        lesson.id: lesson
        for lesson in db.session.scalars(
            select(Lesson)
            .where(Lesson.id.in_(ids))
            .options(joinedload(Lesson.cohort).selectinload(Cohort.staff))
        ).unique()
    }
    if len(lessons) != len(ids):
        return _private_json({"error": _("This lesson does not exist.")}, 404)
    if not all(can_view_roster(current_user, lesson) for lesson in lessons.values()):
        return _private_json(
            {"error": _("Only the cohort's instructors and the coordinators can take attendance.")},
            403,
        )
    answers = sync.apply_changes(changes, actor=current_user, lessons=lessons)
    return _private_json({"results": [answer.as_json() for answer in answers]})


@bp.get("/sw.js")
def service_worker():
    response = current_app.send_static_file("js/offline-sw.js")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    # A new version of the worker is picked up at the next visit.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = SCOPE
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    icon = "img/icons/icon-{}.png"
    payload = {
        "name": _("Active Labs roll call"),
        "short_name": _("Roll call"),
        "description": _("Today's and tomorrow's roll calls, even without a network."),
        "start_url": SCOPE,
        "scope": SCOPE,
        "id": SCOPE,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
        "lang": current_language(),
        "icons": [
            {
                "src": url_for("static", filename=icon.format(size)),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable" if size == 512 else "any",
            }
            for size in (192, 512)
        ],
    }
    response = jsonify(payload)
    response.mimetype = "application/manifest+json"
    return response
