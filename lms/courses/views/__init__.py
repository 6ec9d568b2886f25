"""The courses domain's pages, on one blueprint ``courses``: what visitors, families and
instructors see (public.py: the catalogue, course pages, calendar feeds) and the coordinators'
management of the catalogue and the timetable (management.py)."""

from flask import Blueprint

bp = Blueprint("courses", __name__)

# Each module adds its routes to ``bp`` as it is imported (bp must exist first).
from lms.courses.views import management, public  # noqa: E402, F401
