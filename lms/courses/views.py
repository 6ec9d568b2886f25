"""Catalogue pages (public), calendar feeds, and the coordinators' timetable pages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from babel.lists import format_list
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.models import User
from lms.courses import hooks, services
from lms.courses.calendar import build_calendar
from lms.courses.forms import (
    CatalogueFilterForm,
    ClosureForm,
    CohortForm,
    CohortStatusForm,
    CourseForm,
    LessonCancelForm,
    LessonMoveForm,
    RoomForm,
    TimetableFilterForm,
    weekday_names,
)
from lms.courses.models import (
    COHORT_STATUS_LABELS,
    INSTRUCTION_LANGUAGE_LABELS,
    LESSON_STATUS_LABELS,
    LEVEL_LABELS,
    TEACHING_ROLE_LABELS,
    TRACK_LABELS,
    Closure,
    Cohort,
    CohortInstructor,
    CohortStatus,
    Course,
    Lesson,
    Room,
    Track,
    lab_zone,
    local_instant,
)
from lms.courses.permissions import can_view_cohort, can_view_course
from lms.errors import DomainError
from lms.extensions import db
from lms.forms import apply_domain_error, choices, render_form
from lms.i18n import current_language
from lms.money import format_price
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("courses", __name__)

PER_PAGE = 25

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


def bring_up_to_date(cohorts) -> None:
    """Let the domains above settle the cohorts about to be shown (lapsed seat offers move on);
    commit only if one of them changed something."""
    cohorts = list(cohorts)
    changed = [bool(settle(cohorts)) for settle in hooks.cohorts_shown] if cohorts else []
    if any(changed):
        db.session.commit()


@bp.app_context_processor
def catalogue_names():
    return {
        "cohort_card_actions": card_actions,
        "track_names": TRACK_LABELS,
        "level_names": LEVEL_LABELS,
        "cohort_status_names": COHORT_STATUS_LABELS,
        "lesson_status_names": LESSON_STATUS_LABELS,
        "teaching_role_names": TEACHING_ROLE_LABELS,
        "instruction_language_names": INSTRUCTION_LANGUAGE_LABELS,
        "price_label": format_price,
        "weekdays_label": weekdays_label,
    }


@bp.app_template_filter("title_in")
def title_in(course: Course, language: str | None = None) -> str:
    return course.title(language or current_language())


@bp.app_template_filter("summary_in")
def summary_in(course: Course, language: str | None = None) -> str:
    return course.summary(language or current_language())


# ---------------------------------------------------------------------------------------------
# Loaders


def load_public_course(course_id: int) -> Course:
    """A course a visitor may see (published), or 404."""
    course = db.get_or_404(Course, course_id)
    if not can_view_course(current_user, course):
        abort(404)
    return course


def load_public_cohort(cohort_id: int) -> Cohort:
    """A cohort a visitor may see (published course, no longer a draft), or 404."""
    cohort = db.get_or_404(Cohort, cohort_id)
    if not can_view_cohort(current_user, cohort):
        abort(404)
    return cohort


def load_cohort(cohort_id: int) -> Cohort:
    """A cohort with its course, room, team and lessons (coordinators' pages), or 404."""
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(
            joinedload(Cohort.course),
            joinedload(Cohort.room),
            selectinload(Cohort.staff).joinedload(CohortInstructor.instructor),
            selectinload(Cohort.lessons).joinedload(Lesson.room_override),
        )
    )
    if cohort is None:
        abort(404)
    return cohort


def load_lesson(lesson_id: int) -> Lesson:
    """A lesson with its cohort, or 404."""
    lesson = db.session.scalar(
        select(Lesson)
        .where(Lesson.id == lesson_id)
        .options(joinedload(Lesson.cohort).joinedload(Cohort.course))
    )
    if lesson is None:
        abort(404)
    return lesson


# ---------------------------------------------------------------------------------------------
# The public catalogue


def _filter_choices(form: CatalogueFilterForm, children) -> None:
    form.track.choices = choices([("", _("All tracks")), *TRACK_LABELS.items()])
    form.weekday.choices = choices(
        [("", _("Any day")), *((str(day), name) for day, name in enumerate(weekday_names()))]
    )
    form.time_of_day.choices = choices([("", _("Any time")), *time_of_day_names().items()])
    form.language.choices = choices([("", _("Any language")), *INSTRUCTION_LANGUAGE_LABELS.items()])
    form.child.choices = choices(
        [("", _("Any child")), *((str(child.id), child.name) for child in children)]
    )


def _catalogue_filters(form: CatalogueFilterForm):
    """The filters from the query string; a bad value is shown as an error and ignored."""
    form.validate()
    child = None
    if form.child.data is not None and not form.child.errors:
        child = services.child_for(current_user, form.child.data)
    weekday = form.weekday.data if form.weekday.data in {str(d) for d in range(7)} else None
    time_of_day = form.time_of_day.data
    language = form.language.data
    filters = services.CatalogueFilters(
        age=None if (form.age.errors or child) else form.age.data,
        birth_date=child.birth_date if child else None,
        track=form.track.data if form.track.data in Track.__members__.values() else None,
        weekday=int(weekday) if weekday is not None else None,
        time_of_day=time_of_day if time_of_day in services.TIMES_OF_DAY else None,
        language=language if language in INSTRUCTION_LANGUAGE_LABELS else None,
    )
    return filters, child


@bp.get("/catalogue")
def catalogue():
    children = list(hooks.family_children(current_user)) if current_user.is_authenticated else []
    form = CatalogueFilterForm(formdata=request.args)
    _filter_choices(form, children)
    filters, child = _catalogue_filters(form)
    cohorts = services.catalogue_cohorts(filters)
    bring_up_to_date(cohorts)
    counts = services.lesson_counts(c.id for c in cohorts)
    return render_template(
        "courses/catalogue.html",
        form=form,
        groups=services.group_by_track(cohorts),
        total=len(cohorts),
        lesson_counts=counts,
        children=children,
        child=child,
        filtered=any(value not in (None, "") for value in request.args.values()),
    )


@bp.get("/catalogue/courses/<int:course_id>")
def course_page(course_id: int):
    course = load_public_course(course_id)
    cohorts = services.catalogue_cohorts(
        services.CatalogueFilters(course_id=course.id),
        statuses=(CohortStatus.OPEN, CohortStatus.CLOSED),
    )
    bring_up_to_date(cohorts)
    return render_template(
        "courses/course_page.html",
        course=course,
        cohorts=cohorts,
        lesson_counts=services.lesson_counts(c.id for c in cohorts),
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
    lessons = services.feed_lessons(cohort_ids=[cohort.id])
    body = build_calendar(
        lessons, name=f"Active Labs — {cohort.course.title(language)}", language=language
    )
    return _ics_response(body, f"active-labs-cohort-{cohort.id}.ics", private=False)


@bp.get("/calendar/<token>.ics")
def private_calendar(token: str):
    user = services.user_for_calendar_token(token)
    if user is None:
        abort(404)
    body = build_calendar(
        services.private_feed_lessons(user),
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
    services.regenerate_calendar_token(current_user)
    db.session.commit()
    if had_one:
        flash(_("Your calendar has a new address; the old one no longer works."), "success")
    else:
        flash(_("Your calendar address is ready."), "success")
    return redirect(url_for("courses.my_calendar"))


# ---------------------------------------------------------------------------------------------
# Coordinators: courses


def _course_form_choices(form: CourseForm, course: Course | None) -> None:
    query = select(Course.id, Course.title_fr).order_by(Course.title_fr)
    if course is not None:
        query = query.where(Course.id != course.id)
    form.prerequisites.choices = choices(db.session.execute(query).all())


def _course_details(form: CourseForm) -> services.CourseDetails:
    return services.CourseDetails(
        title_fr=form.title_fr.data,
        summary_fr=form.summary_fr.data,
        title_ar=form.title_ar.data,
        title_en=form.title_en.data,
        summary_ar=form.summary_ar.data,
        summary_en=form.summary_en.data,
        track=form.track.data,
        level=form.level.data,
        min_age=form.min_age.data,
        max_age=form.max_age.data,
        price_centimes=int((form.price.data * 100).to_integral_value()),
        attendance_threshold=form.attendance_threshold.data,
        requires_final_project=form.requires_final_project.data,
        published=form.published.data,
    )


@bp.get("/coordinator/courses")
@role_required(Role.COORDINATOR)
def course_list():
    query = select(Course).order_by(Course.title_fr)
    search = (request.args.get("q") or "").strip()[:100]
    track = request.args.get("track")
    published = request.args.get("published")
    if search:
        query = query.where(func.lower(Course.title_fr).contains(search.lower(), autoescape=True))
    if track in Track.__members__.values():
        query = query.where(Course.track == track)
    if published in ("yes", "no"):
        query = query.where(Course.published.is_(published == "yes"))
    page = db.paginate(query, per_page=PER_PAGE, max_per_page=100)
    return render_template(
        "courses/course_list.html", page=page, search=search, track=track, published=published
    )


@bp.route("/coordinator/courses/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def course_new():
    form = CourseForm()
    _course_form_choices(form, None)
    if request.method == "GET":
        form.min_age.data = 7
        form.max_age.data = 14
    if form.validate_on_submit():
        try:
            course = services.create_course(
                _course_details(form), actor=current_user, prerequisite_ids=form.prerequisites.data
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The course %(title)s is saved.", title=course.title_fr), "success")
            return redirect(url_for("courses.course_list"))
    return render_form("courses/course_form.html", form, course=None)


@bp.route("/coordinator/courses/<int:course_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def course_edit(course_id: int):
    course = db.get_or_404(Course, course_id)
    form = CourseForm()
    _course_form_choices(form, course)
    if request.method == "GET":
        for name in (
            "title_fr", "summary_fr", "title_ar", "summary_ar", "title_en", "summary_en",
            "track", "level", "min_age", "max_age", "attendance_threshold",
            "requires_final_project", "published",
        ):  # fmt: skip
            getattr(form, name).data = getattr(course, name)
        form.price.data = Decimal(course.price_centimes) / 100
        form.prerequisites.data = [p.id for p in course.prerequisites]
    if form.validate_on_submit():
        try:
            services.update_course(
                course,
                _course_details(form),
                actor=current_user,
                prerequisite_ids=form.prerequisites.data,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The course %(title)s is saved.", title=course.title_fr), "success")
            return redirect(url_for("courses.course_list"))
    return render_form("courses/course_form.html", form, course=course)


# ---------------------------------------------------------------------------------------------
# Coordinators: rooms


@bp.get("/coordinator/rooms")
@role_required(Role.COORDINATOR)
def room_list():
    query = select(Room).order_by(Room.site, Room.name)
    search = (request.args.get("q") or "").strip()[:100]
    if search:
        query = query.where(func.lower(Room.name).contains(search.lower(), autoescape=True))
    page = db.paginate(query, per_page=PER_PAGE, max_per_page=100)
    return render_template("courses/room_list.html", page=page, search=search)


@bp.route("/coordinator/rooms/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def room_new():
    form = RoomForm()
    if request.method == "GET":
        form.site.data = current_app.config["DEFAULT_SITE"]
    if form.validate_on_submit():
        try:
            room = services.create_room(
                actor=current_user,
                name=form.name.data,
                site=form.site.data,
                capacity=form.capacity.data,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The room %(name)s is saved.", name=room.name), "success")
            return redirect(url_for("courses.room_list"))
    return render_form("courses/room_form.html", form, room=None)


@bp.route("/coordinator/rooms/<int:room_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def room_edit(room_id: int):
    room = db.get_or_404(Room, room_id)
    form = RoomForm()
    if request.method == "GET":
        form.name.data, form.site.data, form.capacity.data = room.name, room.site, room.capacity
    if form.validate_on_submit():
        try:
            services.update_room(
                room,
                actor=current_user,
                name=form.name.data,
                site=form.site.data,
                capacity=form.capacity.data,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The room %(name)s is saved.", name=room.name), "success")
            return redirect(url_for("courses.room_list"))
    return render_form("courses/room_form.html", form, room=room)


# ---------------------------------------------------------------------------------------------
# Coordinators: closures


@bp.get("/coordinator/closures")
@role_required(Role.COORDINATOR)
def closure_list():
    when = request.args.get("when", "upcoming")
    today = services.local_today()
    query = select(Closure)
    if when == "past":
        query = query.where(Closure.ends_on < today).order_by(Closure.starts_on.desc())
    elif when == "all":
        query = query.order_by(Closure.starts_on.desc())
    else:
        when = "upcoming"
        query = query.where(Closure.ends_on >= today).order_by(Closure.starts_on)
    page = db.paginate(query, per_page=PER_PAGE, max_per_page=100)
    return render_template("courses/closure_list.html", page=page, when=when)


@bp.route("/coordinator/closures/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def closure_new():
    form = ClosureForm()
    if form.validate_on_submit():
        try:
            closure = services.create_closure(
                actor=current_user,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                label=form.label.data,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            cancelled, clashes = [], services.scheduled_lessons_during(closure)
            if form.cancel_lessons.data:
                cancelled, clashes = services.cancel_lessons_during(closure, actor=current_user)
            db.session.commit()
            flash(_("The closure is saved."), "success")
            if cancelled:
                flash(
                    ngettext(
                        "%(num)d lesson cancelled; its families are told by e-mail.",
                        "%(num)d lessons cancelled; their families are told by e-mail.",
                        len(cancelled),
                    ),
                    "success",
                )
            if clashes:
                flash(
                    ngettext(
                        "%(num)d lesson already planned falls on these days; move or cancel it "
                        "from its cohort's page.",
                        "%(num)d lessons already planned fall on these days; move or cancel "
                        "them from their cohort's page.",
                        len(clashes),
                    ),
                    "warning",
                )
            return redirect(url_for("courses.closure_list"))
    return render_form("courses/closure_form.html", form)


@bp.post("/coordinator/closures/<int:closure_id>/delete")
@role_required(Role.COORDINATOR)
def closure_delete(closure_id: int):
    closure = db.get_or_404(Closure, closure_id)
    services.delete_closure(closure, actor=current_user)
    db.session.commit()
    flash(_("The closure is removed."), "success")
    return redirect(url_for("courses.closure_list"))


# ---------------------------------------------------------------------------------------------
# Coordinators: cohorts


def _instructors() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.INSTRUCTOR, User.active.is_(True))
            .order_by(User.full_name)
        )
    )


def _rooms() -> list[Room]:
    return list(db.session.scalars(select(Room).order_by(Room.site, Room.name)))


def _room_choices(rooms: list[Room]):
    return choices(
        (room.id, _("%(room)s (%(num)d seats)", room=room.label, num=room.capacity))
        for room in rooms
    )


def _cohort_form_choices(form: CohortForm) -> None:
    courses = db.session.execute(select(Course.id, Course.title_fr).order_by(Course.title_fr))
    form.course_id.choices = choices(courses.all())
    form.room_id.choices = _room_choices(_rooms())
    people = [(user.id, user.full_name) for user in _instructors()]
    form.lead_instructor_id.choices = choices(people)
    form.assistant_ids.choices = choices(people)


def _window(form: CohortForm) -> tuple[datetime | None, datetime | None]:
    opens = form.enrolment_opens_on.data
    closes = form.enrolment_closes_on.data
    return (
        local_instant(opens, time(0)) if opens else None,
        local_instant(closes + timedelta(days=1), time(0)) if closes else None,
    )


def _team(form: CohortForm) -> tuple[User | None, list[User]]:
    lead = db.session.get(User, form.lead_instructor_id.data)
    assistants = [db.session.get(User, i) for i in form.assistant_ids.data or []]
    return lead, [a for a in assistants if a is not None]


@bp.get("/coordinator/cohorts")
@role_required(Role.COORDINATOR)
def cohort_list():
    query = (
        select(Cohort)
        .join(Cohort.course)
        .options(
            joinedload(Cohort.course),
            joinedload(Cohort.room),
            selectinload(Cohort.staff).joinedload(CohortInstructor.instructor),
        )
        .order_by(Cohort.start_date.desc(), Cohort.start_time, Cohort.id)
    )
    status = request.args.get("status")
    track = request.args.get("track")
    course_id = request.args.get("course", type=int)
    room_id = request.args.get("room", type=int)
    if status in CohortStatus.__members__.values():
        query = query.where(Cohort.status == status)
    if track in Track.__members__.values():
        query = query.where(Course.track == track)
    if course_id:
        query = query.where(Cohort.course_id == course_id)
    if room_id:
        query = query.where(Cohort.room_id == room_id)
    page = db.paginate(query, per_page=PER_PAGE, max_per_page=100)
    courses = db.session.execute(select(Course.id, Course.title_fr).order_by(Course.title_fr))
    return render_template(
        "courses/cohort_list.html",
        page=page,
        status=status,
        track=track,
        course_id=course_id,
        room_id=room_id,
        courses=courses.all(),
        rooms=_rooms(),
        statuses=list(CohortStatus),
        lesson_counts=services.lesson_counts(c.id for c in page.items),
    )


@bp.route("/coordinator/cohorts/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cohort_new():
    form = CohortForm()
    _cohort_form_choices(form)
    if request.method == "GET":
        form.course_id.data = request.args.get("course", type=int)
        form.language.data = "fr"
    if form.validate_on_submit():
        course = db.session.get(Course, form.course_id.data)
        room = db.session.get(Room, form.room_id.data)
        lead, assistants = _team(form)
        opens_at, closes_at = _window(form)
        try:
            cohort = services.create_cohort(
                actor=current_user,
                course=course,
                room=room,
                lead=lead,
                assistants=assistants,
                capacity=form.capacity.data,
                language=form.language.data,
                start_date=form.start_date.data,
                end_date=form.end_date.data,
                weekdays=form.weekdays.data,
                start_time=form.start_time.data,
                duration_minutes=form.duration_minutes.data,
                enrolment_opens_at=opens_at,
                enrolment_closes_at=closes_at,
                status=form.status.data,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "The cohort is saved with %(num)d lessons.",
                    num=len(cohort.lessons),
                ),
                "success",
            )
            return redirect(url_for("courses.cohort_detail", cohort_id=cohort.id))
    return render_form("courses/cohort_form.html", form, cohort=None)


@bp.route("/coordinator/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cohort_edit(cohort_id: int):
    cohort = load_cohort(cohort_id)
    form = CohortForm()
    _cohort_form_choices(form)
    form.course_id.choices = choices([(cohort.course_id, cohort.course.title_fr)])
    if request.method == "GET":
        form.course_id.data = cohort.course_id
        form.room_id.data = cohort.room_id
        form.lead_instructor_id.data = cohort.lead.id if cohort.lead else None
        form.assistant_ids.data = [a.id for a in cohort.assistants]
        form.capacity.data = cohort.capacity
        form.language.data = cohort.language
        form.start_date.data = cohort.start_date
        form.end_date.data = cohort.end_date
        form.weekdays.data = cohort.weekday_numbers
        form.start_time.data = cohort.start_time
        form.duration_minutes.data = cohort.duration_minutes
        if cohort.enrolment_opens_at:
            form.enrolment_opens_on.data = cohort.enrolment_opens_at.astimezone(lab_zone()).date()
        form.enrolment_closes_on.data = cohort.enrolment_last_day
        form.status.data = cohort.status
    # The status changes through its own buttons, not this form.
    form.status.choices = choices([(cohort.status, COHORT_STATUS_LABELS[cohort.status])])
    if form.validate_on_submit():
        room = db.session.get(Room, form.room_id.data)
        lead, assistants = _team(form)
        opens_at, closes_at = _window(form)
        try:
            services.update_cohort(
                cohort,
                actor=current_user,
                room=room,
                lead=lead,
                assistants=assistants,
                capacity=form.capacity.data,
                language=form.language.data,
                start_date=form.start_date.data,
                end_date=form.end_date.data,
                weekdays=form.weekdays.data,
                start_time=form.start_time.data,
                duration_minutes=form.duration_minutes.data,
                enrolment_opens_at=opens_at,
                enrolment_closes_at=closes_at,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The cohort is saved."), "success")
            return redirect(url_for("courses.cohort_detail", cohort_id=cohort.id))
    return render_form("courses/cohort_form.html", form, cohort=cohort)


@bp.get("/coordinator/cohorts/<int:cohort_id>")
@role_required(Role.COORDINATOR)
def cohort_detail(cohort_id: int):
    cohort = load_cohort(cohort_id)
    bring_up_to_date([cohort])
    now = services.utcnow()
    # "Completed" is offered once the last lesson is over.
    upcoming = any(not lesson.is_cancelled and lesson.ends_at > now for lesson in cohort.lessons)
    return render_template(
        "courses/cohort_detail.html",
        cohort=cohort,
        transitions=[
            status
            for status in services.COHORT_TRANSITIONS[cohort.status]
            if status != CohortStatus.COMPLETED or not upcoming
        ],
        now=now,
        sections=[
            section for make in hooks.cohort_page_sections if (section := make(cohort)) is not None
        ],
    )


@bp.post("/coordinator/cohorts/<int:cohort_id>/status")
@role_required(Role.COORDINATOR)
def cohort_status(cohort_id: int):
    cohort = load_cohort(cohort_id)
    form = CohortStatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_cohort_status(cohort, form.status.data, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(
            _("The cohort is now: %(status)s.", status=COHORT_STATUS_LABELS[cohort.status]),
            "success",
        )
    return redirect(url_for("courses.cohort_detail", cohort_id=cohort_id))


def _lesson_form_choices(form: LessonMoveForm) -> None:
    form.room_id.choices = _room_choices(_rooms())


@bp.route("/coordinator/cohorts/<int:cohort_id>/makeup", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def makeup_new(cohort_id: int):
    cohort = load_cohort(cohort_id)
    form = LessonMoveForm()
    _lesson_form_choices(form)
    if request.method == "GET":
        form.start_time.data = cohort.start_time
        form.duration_minutes.data = cohort.duration_minutes
        form.room_id.data = cohort.room_id
    if form.validate_on_submit():
        try:
            lesson = services.add_makeup_lesson(
                cohort,
                actor=current_user,
                on_date=form.date.data,
                start_time=form.start_time.data,
                duration_minutes=form.duration_minutes.data,
                room=db.session.get(Room, form.room_id.data),
                note=form.note.data,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Make-up lesson %(num)d is added.", num=lesson.number), "success")
            return redirect(url_for("courses.cohort_detail", cohort_id=cohort.id))
    return render_form("courses/lesson_form.html", form, cohort=cohort, lesson=None)


@bp.route("/coordinator/lessons/<int:lesson_id>/move", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def lesson_move(lesson_id: int):
    lesson = load_lesson(lesson_id)
    form = LessonMoveForm()
    _lesson_form_choices(form)
    if request.method == "GET":
        form.date.data = lesson.local_start.date()
        form.start_time.data = lesson.local_start.time()
        form.duration_minutes.data = lesson.duration_minutes
        form.room_id.data = lesson.room.id
        form.note.data = lesson.note
    if form.validate_on_submit():
        try:
            services.move_lesson(
                lesson,
                actor=current_user,
                on_date=form.date.data,
                start_time=form.start_time.data,
                duration_minutes=form.duration_minutes.data,
                room=db.session.get(Room, form.room_id.data),
                note=form.note.data,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Lesson %(num)d is moved.", num=lesson.number), "success")
            return redirect(url_for("courses.cohort_detail", cohort_id=lesson.cohort_id))
    return render_form("courses/lesson_form.html", form, cohort=lesson.cohort, lesson=lesson)


@bp.route("/coordinator/lessons/<int:lesson_id>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def lesson_cancel(lesson_id: int):
    lesson = load_lesson(lesson_id)
    form = LessonCancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_lesson(lesson, actor=current_user, note=form.note.data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Lesson %(num)d is cancelled.", num=lesson.number), "success")
            return redirect(url_for("courses.cohort_detail", cohort_id=lesson.cohort_id))
    return render_form("courses/lesson_cancel.html", form, lesson=lesson)


# ---------------------------------------------------------------------------------------------
# Coordinators: the week's timetable


@bp.get("/coordinator/timetable")
@role_required(Role.COORDINATOR)
def timetable():
    form = TimetableFilterForm(formdata=request.args)
    rooms = _rooms()
    instructors = _instructors()
    form.room.choices = choices([("", _("All rooms")), *((r.id, r.label) for r in rooms)])
    form.instructor.choices = choices(
        [("", _("All instructors")), *((u.id, u.full_name) for u in instructors)]
    )
    form.validate()
    week = services.week_start(
        form.week.data if form.week.data and not form.week.errors else services.local_today()
    )
    days = [week + timedelta(days=n) for n in range(7)]
    room_id = form.room.data if not form.room.errors else None
    instructor_id = form.instructor.data if not form.instructor.errors else None
    lessons = services.lessons_between(
        days[0], days[-1], room_id=room_id, instructor_id=instructor_id
    )
    shown_rooms = [r for r in rooms if room_id in (None, r.id)]
    grid: dict[tuple[date, int], list[Lesson]] = {}
    for lesson in lessons:
        grid.setdefault((lesson.local_start.date(), lesson.room.id), []).append(lesson)
    return render_template(
        "courses/timetable.html",
        form=form,
        week=week,
        days=days,
        rooms=shown_rooms,
        grid=grid,
        lesson_total=len(lessons),
        previous_week=week - timedelta(days=7),
        next_week=week + timedelta(days=7),
        room_id=room_id,
        instructor_id=instructor_id,
    )
