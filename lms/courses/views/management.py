"""The coordinators' pages: courses, rooms, closures, cohorts, lessons, the week's timetable."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.models import User
from lms.clock import lab_zone, local_instant, local_today
from lms.courses import hooks
from lms.courses.catalogue import CourseDetails, create_course, lesson_counts, update_course
from lms.courses.cohorts import (
    COHORT_TRANSITIONS,
    CohortPlan,
    create_cohort,
    set_cohort_status,
    update_cohort,
)
from lms.courses.forms import (
    ClosureForm,
    CohortForm,
    CohortStatusForm,
    CourseForm,
    LessonCancelForm,
    LessonMoveForm,
    RoomForm,
    TimetableFilterForm,
)
from lms.courses.loaders import (
    load_closure,
    load_cohort,
    load_course,
    load_lesson,
    load_room,
)
from lms.courses.models import (
    Closure,
    Cohort,
    CohortInstructor,
    CohortStatus,
    Course,
    Lesson,
    Room,
    Track,
)
from lms.courses.scheduling import (
    add_makeup_lesson,
    cancel_lesson,
    cancel_lessons_during,
    create_closure,
    create_room,
    delete_closure,
    move_lesson,
    scheduled_lessons_during,
    update_room,
)
from lms.courses.timetables import lessons_between, week_start
from lms.courses.views import bp
from lms.database import utcnow
from lms.extensions import db
from lms.forms import choices, render_form
from lms.querystring import arg_choice, arg_int, arg_text, paginate
from lms.roles import Role
from lms.security import role_required

PER_PAGE = 25

# ---------------------------------------------------------------------------------------------
# Courses


def _course_form_choices(form: CourseForm, course: Course | None) -> None:
    query = select(Course.id, Course.title_fr).order_by(Course.title_fr)
    if course is not None:
        query = query.where(Course.id != course.id)
    form.prerequisites.choices = choices(db.session.execute(query).all())


def _course_details(form: CourseForm) -> CourseDetails:
    return CourseDetails(
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
    search = arg_text("q")
    track = arg_choice("track", Track.__members__.values())
    published = arg_choice("published", ("yes", "no"))
    if search:
        query = query.where(func.lower(Course.title_fr).contains(search.lower(), autoescape=True))
    if track:
        query = query.where(Course.track == track)
    if published:
        query = query.where(Course.published.is_(published == "yes"))
    page = paginate(query, per_page=PER_PAGE, max_per_page=100)
    return render_template(
        "courses/course_list.html", page=page, search=search, track=track, published=published
    )


@bp.route("/coordinator/courses/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def course_new():
    form = CourseForm(one_time=True)
    _course_form_choices(form, None)
    if request.method == "GET":
        form.min_age.data = 7
        form.max_age.data = 14
    if form.validate_on_submit():
        course = create_course(
            _course_details(form), actor=current_user, prerequisite_ids=form.prerequisites.data
        )
        flash(_("The course %(title)s is saved.", title=course.title_fr), "success")
        return redirect(url_for("courses.course_list"))
    return render_form("courses/course_form.html", form, course=None)


@bp.route("/coordinator/courses/<int:course_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def course_edit(course_id: int):
    course = load_course(course_id)
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
        update_course(
            course,
            _course_details(form),
            actor=current_user,
            prerequisite_ids=form.prerequisites.data,
        )
        flash(_("The course %(title)s is saved.", title=course.title_fr), "success")
        return redirect(url_for("courses.course_list"))
    return render_form("courses/course_form.html", form, course=course)


# ---------------------------------------------------------------------------------------------
# Rooms


@bp.get("/coordinator/rooms")
@role_required(Role.COORDINATOR)
def room_list():
    query = select(Room).order_by(Room.site, Room.name)
    search = arg_text("q")
    if search:
        query = query.where(func.lower(Room.name).contains(search.lower(), autoescape=True))
    page = paginate(query, per_page=PER_PAGE, max_per_page=100)
    return render_template("courses/room_list.html", page=page, search=search)


@bp.route("/coordinator/rooms/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def room_new():
    form = RoomForm(one_time=True)
    if request.method == "GET":
        form.site.data = current_app.config["DEFAULT_SITE"]
    if form.validate_on_submit():
        room = create_room(
            actor=current_user,
            name=form.name.data,
            name_ar=form.name_ar.data,
            site=form.site.data,
            capacity=form.capacity.data,
        )
        flash(_("The room %(name)s is saved.", name=room.name), "success")
        return redirect(url_for("courses.room_list"))
    return render_form("courses/room_form.html", form, room=None)


@bp.route("/coordinator/rooms/<int:room_id>/edit", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def room_edit(room_id: int):
    room = load_room(room_id)
    form = RoomForm()
    if request.method == "GET":
        form.name.data, form.site.data, form.capacity.data = room.name, room.site, room.capacity
        form.name_ar.data = room.name_ar
    if form.validate_on_submit():
        update_room(
            room,
            actor=current_user,
            name=form.name.data,
            name_ar=form.name_ar.data,
            site=form.site.data,
            capacity=form.capacity.data,
        )
        flash(_("The room %(name)s is saved.", name=room.name), "success")
        return redirect(url_for("courses.room_list"))
    return render_form("courses/room_form.html", form, room=room)


# ---------------------------------------------------------------------------------------------
# Closures


@bp.get("/coordinator/closures")
@role_required(Role.COORDINATOR)
def closure_list():
    when = arg_choice("when", ("upcoming", "past", "all"), default="upcoming")
    today = local_today()
    query = select(Closure)
    if when == "past":
        query = query.where(Closure.ends_on < today).order_by(Closure.starts_on.desc())
    elif when == "all":
        query = query.order_by(Closure.starts_on.desc())
    else:
        when = "upcoming"
        query = query.where(Closure.ends_on >= today).order_by(Closure.starts_on)
    page = paginate(query, per_page=PER_PAGE, max_per_page=100)
    return render_template("courses/closure_list.html", page=page, when=when)


@bp.route("/coordinator/closures/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def closure_new():
    form = ClosureForm()
    if form.validate_on_submit():
        closure = create_closure(
            actor=current_user,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            label=form.label.data,
        )
        cancelled, clashes = [], scheduled_lessons_during(closure)
        if form.cancel_lessons.data:
            cancelled, clashes = cancel_lessons_during(closure, actor=current_user)
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
    delete_closure(load_closure(closure_id), actor=current_user)
    flash(_("The closure is removed."), "success")
    return redirect(url_for("courses.closure_list"))


# ---------------------------------------------------------------------------------------------
# Cohorts


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


def _cohort_plan(form: CohortForm, course: Course) -> CohortPlan:
    """The plan written in the form; the enrolment window runs from the start of its first
    local day to the end of its last."""
    opens, closes = form.enrolment_opens_on.data, form.enrolment_closes_on.data
    assistants = (db.session.get(User, i) for i in form.assistant_ids.data or [])
    return CohortPlan(
        course=course,
        room=db.session.get(Room, form.room_id.data),
        lead=db.session.get(User, form.lead_instructor_id.data),
        assistants=[a for a in assistants if a is not None],
        capacity=form.capacity.data,
        language=form.language.data,
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        weekdays=form.weekdays.data,
        start_time=form.start_time.data,
        duration_minutes=form.duration_minutes.data,
        enrolment_opens_at=local_instant(opens, time(0)) if opens else None,
        enrolment_closes_at=local_instant(closes + timedelta(days=1), time(0)) if closes else None,
    )


def _fill_cohort_form(form: CohortForm, cohort: Cohort) -> None:
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
    status = arg_choice("status", CohortStatus.__members__.values())
    track = arg_choice("track", Track.__members__.values())
    course_id = arg_int("course")
    room_id = arg_int("room")
    if status:
        query = query.where(Cohort.status == status)
    if track:
        query = query.where(Course.track == track)
    if course_id:
        query = query.where(Cohort.course_id == course_id)
    if room_id:
        query = query.where(Cohort.room_id == room_id)
    page = paginate(query, per_page=PER_PAGE, max_per_page=100)
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
        lesson_counts=lesson_counts(c.id for c in page.items),
    )


@bp.route("/coordinator/cohorts/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cohort_new():
    form = CohortForm(one_time=True)
    _cohort_form_choices(form)
    if request.method == "GET":
        form.course_id.data = arg_int("course")
        form.language.data = "fr"
    if form.validate_on_submit():
        course = db.session.get(Course, form.course_id.data)
        cohort = create_cohort(
            _cohort_plan(form, course), actor=current_user, status=form.status.data
        )
        flash(_("The cohort is saved with %(num)d lessons.", num=len(cohort.lessons)), "success")
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
        _fill_cohort_form(form, cohort)
    # The status changes through its own buttons, not this form.
    form.status.choices = choices([(cohort.status, CohortStatus(cohort.status).label)])
    if form.validate_on_submit():
        update_cohort(cohort, _cohort_plan(form, cohort.course), actor=current_user)
        flash(_("The cohort is saved."), "success")
        return redirect(url_for("courses.cohort_detail", cohort_id=cohort.id))
    return render_form("courses/cohort_form.html", form, cohort=cohort)


@bp.get("/coordinator/cohorts/<int:cohort_id>")
@role_required(Role.COORDINATOR)
def cohort_detail(cohort_id: int):
    cohort = load_cohort(cohort_id)
    now = utcnow()
    # "Completed" is offered once the last lesson is over.
    upcoming = any(not lesson.is_cancelled and lesson.ends_at > now for lesson in cohort.lessons)
    return render_template(
        "courses/cohort_detail.html",
        cohort=cohort,
        transitions=[
            status
            for status in COHORT_TRANSITIONS[cohort.status]
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
    set_cohort_status(cohort, form.status.data, actor=current_user)
    flash(_("The cohort is now: %(status)s.", status=CohortStatus(cohort.status).label), "success")
    return redirect(url_for("courses.cohort_detail", cohort_id=cohort_id))


# ---------------------------------------------------------------------------------------------
# Single lessons


def _lesson_form_choices(form: LessonMoveForm) -> None:
    form.room_id.choices = _room_choices(_rooms())


@bp.route("/coordinator/cohorts/<int:cohort_id>/makeup", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def makeup_new(cohort_id: int):
    cohort = load_cohort(cohort_id)
    form = LessonMoveForm(one_time=True)
    _lesson_form_choices(form)
    if request.method == "GET":
        form.start_time.data = cohort.start_time
        form.duration_minutes.data = cohort.duration_minutes
        form.room_id.data = cohort.room_id
    if form.validate_on_submit():
        lesson = add_makeup_lesson(
            cohort,
            actor=current_user,
            on_date=form.date.data,
            start_time=form.start_time.data,
            duration_minutes=form.duration_minutes.data,
            room=db.session.get(Room, form.room_id.data),
            note=form.note.data,
        )
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
        move_lesson(
            lesson,
            actor=current_user,
            on_date=form.date.data,
            start_time=form.start_time.data,
            duration_minutes=form.duration_minutes.data,
            room=db.session.get(Room, form.room_id.data),
            note=form.note.data,
        )
        flash(_("Lesson %(num)d is moved.", num=lesson.number), "success")
        return redirect(url_for("courses.cohort_detail", cohort_id=lesson.cohort_id))
    return render_form("courses/lesson_form.html", form, cohort=lesson.cohort, lesson=lesson)


@bp.route("/coordinator/lessons/<int:lesson_id>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def lesson_cancel(lesson_id: int):
    lesson = load_lesson(lesson_id)
    form = LessonCancelForm()
    if form.validate_on_submit():
        cancel_lesson(lesson, actor=current_user, note=form.note.data)
        flash(_("Lesson %(num)d is cancelled.", num=lesson.number), "success")
        return redirect(url_for("courses.cohort_detail", cohort_id=lesson.cohort_id))
    return render_form("courses/lesson_cancel.html", form, lesson=lesson)


# ---------------------------------------------------------------------------------------------
# The week's timetable


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
    week = week_start(form.week.data if form.week.data and not form.week.errors else local_today())
    days = [week + timedelta(days=n) for n in range(7)]
    room_id = form.room.data if not form.room.errors else None
    instructor_id = form.instructor.data if not form.instructor.errors else None
    lessons = lessons_between(days[0], days[-1], room_id=room_id, instructor_id=instructor_id)
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
