"""Hooks: how a lower domain learns from, or lets take part, the domains above it.

A lower domain never imports a higher one (accounts <- families <- courses <- enrolment <-
attendance <- certificates). When it needs an answer only a higher domain has, it declares a
``Provider`` with a default answer; when higher domains must take part in what it does (an
export, an erasure), it declares a ``Hook`` they register functions on. The higher domain fills
them at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

F = TypeVar("F")
Result = TypeVar("Result")


class Hook(Generic[F]):
    """An ordered list of functions that higher domains register."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._functions: list[F] = []

    def register(self, function: F) -> F:
        """Add ``function`` (usable as a decorator); registering twice is harmless."""
        if function not in self._functions:
            self._functions.append(function)
        return function

    def unregister(self, function: F) -> None:
        if function in self._functions:
            self._functions.remove(function)

    def __iter__(self) -> Iterator[F]:
        return iter(list(self._functions))

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._functions)} registered>"


class Provider(Generic[Result]):
    """One answer, given by a higher domain; a default answer until then.

    ``provide`` installs the real answer (at import time). Tests ``override`` it and ``reset``
    back to the installed answer, never losing it for the tests that follow.
    """

    def __init__(self, name: str, default: Callable[..., Result]) -> None:
        self.name = name
        self._default = default
        self._provider: Callable[..., Result] | None = None
        self._overrides: list[Callable[..., Result]] = []

    def provide(self, provider: Callable[..., Result]) -> Callable[..., Result]:
        """Install ``provider`` (usable as a decorator); the last one installed wins."""
        self._provider = provider
        return provider

    def override(self, provider: Callable[..., Result]) -> Callable[..., Result]:
        """Answer with ``provider`` until ``reset`` (tests)."""
        self._overrides.append(provider)
        return provider

    def reset(self) -> None:
        """Drop the overrides: back to the installed answer (tests)."""
        self._overrides.clear()

    @property
    def provided(self) -> bool:
        return self._provider is not None

    def __call__(self, *args: Any, **kwargs: Any) -> Result:
        answer = (self._overrides or [self._provider or self._default])[-1]
        return answer(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Provider {self.name}: {'provided' if self.provided else 'default'}>"


@dataclass(frozen=True)
class PageSection:
    """A part of a page that a higher domain renders: ``template`` with ``context``."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
