"""The roles of a login and their labels (next to ``role_required`` in lms/security.py).

Kept apart from the accounts domain so that infrastructure (notifications, audit, templating)
can name a role without importing a domain.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.labels import LabelledEnum


class Role(LabelledEnum):
    PARENT = "parent", _l("Parent")
    INSTRUCTOR = "instructor", _l("Instructor")
    COORDINATOR = "coordinator", _l("Coordinator")


STAFF_ROLES = (Role.INSTRUCTOR, Role.COORDINATOR)
