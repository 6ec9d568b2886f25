"""What the courses domain needs to know from the domains above it, as hooks they fill.

Courses sits below families and enrolment, so it never imports them. Instead a higher domain
registers a provider here at import time, for example in ``lms/enrolment/__init__.py``::

    from lms.courses import hooks

    @hooks.cohort_recipients.provide
    def parents_of_enrolled_children(cohort): ...

Until something is registered each hook answers its default: nobody, no children, no lessons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

Result = TypeVar("Result")


class Hook(Generic[Result]):
    """One provider, registered by a higher domain; a default answer until then."""

    def __init__(self, name: str, default: Callable[..., Result]) -> None:
        self.name = name
        self._default = default
        self._provider: Callable[..., Result] | None = None

    def provide(self, provider: Callable[..., Result]) -> Callable[..., Result]:
        """Register ``provider`` (usable as a decorator); the last one registered wins."""
        self._provider = provider
        return provider

    def reset(self) -> None:
        """Back to the default answer (tests)."""
        self._provider = None

    @property
    def provided(self) -> bool:
        return self._provider is not None

    def __call__(self, *args: Any, **kwargs: Any) -> Result:
        return (self._provider or self._default)(*args, **kwargs)


@dataclass(frozen=True)
class ChildSummary:
    """What the catalogue needs to know about a child: who, and born when."""

    id: int
    name: str
    birth_date: date


# (cohort) -> the users (parents) to tell when a lesson of the cohort is moved, cancelled or
# added, or the cohort is cancelled. The enrolment domain answers: the parents of the children
# enrolled in the cohort.
cohort_recipients: Hook[Iterable[Any]] = Hook("cohort_recipients", lambda cohort: ())

# (user) -> the children this user may search the catalogue for (families domain).
family_children: Hook[Iterable[ChildSummary]] = Hook("family_children", lambda user: ())

# (user) -> ids of the cohorts whose lessons go in the user's private family calendar
# (enrolment domain: the cohorts their children are enrolled in).
family_cohort_ids: Hook[Iterable[int]] = Hook("family_cohort_ids", lambda user: ())

ALL_HOOKS = (cohort_recipients, family_children, family_cohort_ids)
