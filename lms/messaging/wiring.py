"""What messaging adds below it: a section of the coordinators' cohort page (courses) and
what an erased account leaves behind (families)."""

from __future__ import annotations

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
    from lms.messaging.services import forget_recipient

    forget_recipient(user)


def _describe_forget(user) -> list:
    return []


def install() -> None:
    """Register messaging's answers to the lower domains' hooks (idempotent)."""
    courses_hooks.cohort_page_sections.register(cohort_section)
    families_hooks.account_erasures.register(
        families_hooks.Erasure(describe=_describe_forget, erase=_forget)
    )
