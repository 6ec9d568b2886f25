"""What the enrolment domain needs to know from the domains above it, as hooks they fill.

Certificates sit above enrolment. Until that domain provides its answer, no child holds a
certificate, and only a coordinator's waiver lets a child into a course with prerequisites::

    from lms.enrolment import hooks

    @hooks.holds_valid_certificate.provide
    def _holds(child, course) -> bool: ...
"""

from __future__ import annotations

from lms.hooks import Provider

# (child, course) -> True if the child holds a valid (issued, not revoked) certificate for the
# course: the prerequisite rule asks it for each prerequisite of the course a child joins.
holds_valid_certificate: Provider[bool] = Provider(
    "holds_valid_certificate", lambda child, course: False
)

ALL_HOOKS = (holds_valid_certificate,)
