"""What visitors, families and instructors see: the catalogue, course pages, calendar feeds."""

from __future__ import annotations

from babel.lists import format_list
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.courses import hooks
from lms.courses.calendar import (
    build_calendar,
    regenerate_calendar_token,
    user_for_calendar_token,
)
from lms.courses.catalogue import (
    TIMES_OF_DAY,
    CatalogueFilters,
    catalogue_cohorts,
    child_for,
    group_by_track,
    lesson_counts,
)
from lms.courses.forms import CatalogueFilterForm, weekday_names
from lms.courses.loaders import load_public_cohort, load_public_course
from lms.courses.models import (
    Cohort,
    CohortStatus,
    Course,
    InstructionLanguage,
    LessonStatus,
    Level,
    Room,
    TeachingRole,
    Track,
)
from lms.courses.timetables import feed_lessons, private_feed_lessons
from lms.courses.views import bp
from lms.forms import choices
from lms.i18n import current_language
from lms.money import format_price

# ---------------------------------------------------------------------------------------------
# Template helpers


def weekdays_label(weekdays: str) -> str:
    """ "Wednesday and Saturday" from the stored digits."""
    names = weekday_names()
    return format_list([names[int(day)] for day in weekdays], locale=get_locale())


def time_of_day_names() -> dict[str, str]:
    return {"morning": _("Morning"), "afternoon": _("Afternoon"), "evening": _("Evening")}


def card_actions(cohort: Cohort) -> list[hooks.Action]:
    """What the domains above offer the visitor on a cohort's card (e.g. "Enrol")."""
    return [
        action for actions in hooks.cohort_card_actions for action in actions(cohort, current_user)
    ]


@bp.app_context_processor
def catalogue_names():
    return {
        "cohort_card_actions": card_actions,
        "track_names": Track.labels(),
        "level_names": Level.labels(),
        "cohort_status_names": CohortStatus.labels(),
        "lesson_status_names": LessonStatus.labels(),
        "teaching_role_names": TeachingRole.labels(),
        "instruction_language_names": InstructionLanguage.labels(),
        "price_label": format_price,
        "weekdays_label": weekdays_label,
    }


@bp.app_template_filter("title_in")
def title_in(course: Course, language: str | None = None) -> str:
    return course.title(language or current_language())


@bp.app_template_filter("room_in")
def room_in(room: Room, language: str | None = None) -> str:
    return room.name_in(language or current_language())


@bp.app_template_filter("summary_in")
def summary_in(course: Course, language: str | None = None) -> str:
    return course.summary(language or current_language())


# ---------------------------------------------------------------------------------------------
# The public catalogue


def _filter_choices(form: CatalogueFilterForm, children) -> None:
    form.track.choices = choices([("", _("All tracks")), *Track.choices()])
    form.weekday.choices = choices(
        [("", _("Any day")), *((str(day), name) for day, name in enumerate(weekday_names()))]
    )
    form.time_of_day.choices = choices([("", _("Any time")), *time_of_day_names().items()])
    form.language.choices = choices([("", _("Any language")), *InstructionLanguage.choices()])
    form.child.choices = choices(
        [("", _("Any child")), *((str(child.id), child.name) for child in children)]
    )


def _catalogue_filters(form: CatalogueFilterForm):
    """The filters from the query string; a bad value is shown as an error and ignored."""
    form.validate()
    child = None
    if form.child.data is not None and not form.child.errors:
        child = child_for(current_user, form.child.data)
    weekday = form.weekday.data if form.weekday.data in {str(d) for d in range(7)} else None
    time_of_day = form.time_of_day.data
    language = form.language.data
    filters = CatalogueFilters(
        age=None if (form.age.errors or child) else form.age.data,
        birth_date=child.birth_date if child else None,
        track=form.track.data if form.track.data in Track.__members__.values() else None,
        weekday=int(weekday) if weekday is not None else None,
        time_of_day=time_of_day if time_of_day in TIMES_OF_DAY else None,
        language=language if language in InstructionLanguage.__members__.values() else None,
    )
    return filters, child


@bp.get("/catalogue")
def catalogue():
    children = list(hooks.family_children(current_user)) if current_user.is_authenticated else []
    form = CatalogueFilterForm(formdata=request.args)
    _filter_choices(form, children)
    filters, child = _catalogue_filters(form)
    cohorts = catalogue_cohorts(filters)
    active_filters = sum(value not in (None, "") for value in request.args.values())
    return render_template(
        "courses/catalogue.html",
        form=form,
        groups=group_by_track(cohorts),
        total=len(cohorts),
        lesson_counts=lesson_counts(c.id for c in cohorts),
        children=children,
        child=child,
        active_filters=active_filters,
        filtered=bool(active_filters),
    )


@bp.get("/catalogue/courses/<int:course_id>")
def course_page(course_id: int):
    course = load_public_course(course_id)
    cohorts = catalogue_cohorts(
        CatalogueFilters(course_id=course.id),
        statuses=(CohortStatus.OPEN, CohortStatus.CLOSED),
    )
    return render_template(
        "courses/course_page.html",
        course=course,
        cohorts=cohorts,
        lesson_counts=lesson_counts(c.id for c in cohorts),
    )


# ---------------------------------------------------------------------------------------------
# Calendar feeds


def _ics_response(body: bytes, filename: str, *, private: bool) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if private:
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Robots-Tag"] = "noindex"
    else:
        response.headers["Cache-Control"] = "public, max-age=900"
    return response


@bp.get("/catalogue/cohorts/<int:cohort_id>/calendar.ics")
def cohort_calendar(cohort_id: int):
    cohort = load_public_cohort(cohort_id)
    language = current_language()
    body = build_calendar(
        feed_lessons(cohort_ids=[cohort.id]),
        name=f"Active Labs — {cohort.course.title(language)}",
        language=language,
    )
    return _ics_response(body, f"active-labs-cohort-{cohort.id}.ics", private=False)


@bp.get("/calendar/<token>.ics")
def private_calendar(token: str):
    user = user_for_calendar_token(token)
    if user is None:
        abort(404)
    body = build_calendar(
        private_feed_lessons(user),
        name=f"Active Labs — {user.full_name}",
        language=user.locale,
    )
    return _ics_response(body, "active-labs.ics", private=True)


@bp.get("/calendar")
@login_required
def my_calendar():
    token = current_user.calendar_token
    feed_url = url_for("courses.private_calendar", token=token, _external=True) if token else None
    return render_template("courses/my_calendar.html", feed_url=feed_url)


@bp.post("/calendar/link")
@login_required
def new_calendar_link():
    # CSRFProtect checks the token of every POST; this form has nothing else.
    had_one = current_user.calendar_token is not None
    regenerate_calendar_token(current_user)
    if had_one:
        flash(_("Your calendar has a new address; the old one no longer works."), "success")
    else:
        flash(_("Your calendar address is ready."), "success")
    return redirect(url_for("courses.my_calendar"))
