"""What messaging adds below it: a section of the coordinators' cohort page (courses) and
what an erased account leaves behind (families)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.courses import hooks as courses_hooks
from lms.families import hooks as families_hooks
from lms.hooks import PageSection


def cohort_section(cohort) -> PageSection:
    """The cohort's history of messages to its families, and a way to write one."""
    from lms.messaging.services import messages_of_cohort

    return PageSection(
        "messaging/_cohort_section.html",
        {"cohort": cohort, "messages": messages_of_cohort(cohort)},
    )


def _forget(user) -> None:
    from lms.messaging.inbox import forget_family
    from lms.messaging.services import forget_recipient

    forget_recipient(user)
    forget_family(user)


def _describe_forget(user) -> list:
    from lms.messaging.inbox import has_written

    if not has_written(user):
        return []
    return [_l("Your WhatsApp and SMS messages to the lab, and its answers, are deleted.")]


def install() -> None:
    """Register messaging's answers to the lower domains' hooks (idempotent)."""
    courses_hooks.cohort_page_sections.register(cohort_section)
    families_hooks.account_erasures.register(
        families_hooks.Erasure(describe=_describe_forget, erase=_forget)
    )
