"""One enum type for every word of the domain that has a label shown to people."""

from __future__ import annotations

import enum


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry their translatable label.

    ``ROBOTICS = "robotics", _l("Robotics")``: the member equals ``"robotics"`` (stored as is in
    the database), and ``Track.ROBOTICS.label`` is what a page shows.
    """

    label: str

    def __new__(cls, value: str, label=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label if label is not None else value
        return member

    @classmethod
    def labels(cls) -> dict:
        """Each member's label, by member (members compare equal to their stored strings)."""
        return {member: member.label for member in cls}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, label) pairs, in declaration order, for a SelectField."""
        return [(member.value, member.label) for member in cls]
