"""The landing page and the three role homes (they grow with each domain)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from lms.attendance.queries import lesson_progress, lessons_to_catch_up
from lms.attendance.substitutes import substitute_lessons
from lms.certificates.services import certificates_of_children
from lms.clock import local_today
from lms.courses.timetables import lessons_between, upcoming_lessons_for_instructor
from lms.database import utcnow
from lms.enrolment.queries import family_overview
from lms.families.children import children_of, families_of
from lms.messaging.services import messages_for_parent
from lms.notifications.delivery import channel_figures, not_reached_query
from lms.notifications.models import Channel, OutboxMessage
from lms.querystring import arg_choice, paginate
from lms.reports.dashboard import render_dashboard
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("dashboard", __name__)

ROLE_HOMES = {
    Role.PARENT: "dashboard.parent_home",
    Role.INSTRUCTOR: "dashboard.instructor_home",
    Role.COORDINATOR: "dashboard.coordinator_home",
}


@bp.get("/")
def index():
    return render_template("dashboard/index.html")


@bp.get("/privacy")
def privacy():
    return render_template("dashboard/privacy.html")


@bp.get("/home")
@login_required
def home():
    return redirect(url_for(ROLE_HOMES[current_user.role]))


@bp.get("/parent")
@role_required(Role.PARENT)
def parent_home():
    children = children_of(current_user)
    # A lapsed seat offer reads as lapsed; the periodic job moves it on (GET never writes).
    overview = family_overview(current_user, children)
    return render_template(
        "dashboard/parent_home.html",
        children=children,
        today=local_today(),
        overview=overview,
        certificates=certificates_of_children([child.id for child in children]),
        messages=messages_for_parent(current_user, limit=5),
    )


@bp.get("/instructor")
@role_required(Role.INSTRUCTOR)
def instructor_home():
    now = utcnow()
    today = local_today()
    todays = lessons_between(today, today, instructor_id=current_user.id)
    # The lessons they cover as a substitute today are theirs today too.
    own = {lesson.id for lesson in todays}
    todays += [
        lesson for lesson in substitute_lessons(current_user, today, today) if lesson.id not in own
    ]
    todays.sort(key=lambda lesson: (lesson.starts_at, lesson.id))
    recent = lessons_to_catch_up(current_user, now=now)
    lessons = upcoming_lessons_for_instructor(current_user)
    progress = lesson_progress([lesson.id for lesson in todays + recent])
    return render_template(
        "dashboard/instructor_home.html",
        todays=todays,
        # The last 7 days' lessons with children, whose marks can still be changed.
        recent=[lesson for lesson in recent if progress[lesson.id].enrolled],
        progress=progress,
        lessons=lessons,
        now=now,
    )


@bp.get("/coordinator")
@role_required(Role.COORDINATOR)
def coordinator_home():
    # The dashboard of the current term (or of ?term=...), the channels' figures, the tools.
    return render_dashboard(channels=channel_figures())


@bp.get("/coordinator/not-reached")
@role_required(Role.COORDINATOR)
def not_reached():
    # The urgent messages that reached their family on no channel, newest first.
    channel = arg_choice("channel", Channel.__members__.values())
    query = not_reached_query()
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    page = paginate(query, per_page=50, max_per_page=200)
    users = {m.recipient_user_id for m in page.items if m.recipient_user_id}
    return render_template(
        "dashboard/not_reached.html",
        page=page,
        channel=channel,
        families=families_of(users),
    )
