"""Who may see and change which enrolments and payments."""

from __future__ import annotations

from lms.accounts.models import User
from lms.enrolment.models import CardOrder, Enrolment, Payment
from lms.families.permissions import can_manage_child


def can_manage_enrolments(user: User | None) -> bool:
    """Coordinators enrol by hand, cancel, move, waive fees and record payments."""
    return bool(user is not None and user.is_authenticated and user.is_coordinator)


def can_act_for(user: User | None, enrolment: Enrolment) -> bool:
    """Withdraw, accept or decline: the child's guardians (parents) only."""
    return bool(user is not None and can_manage_child(user, enrolment.child))


def can_view_enrolment(user: User | None, enrolment: Enrolment) -> bool:
    """The child's guardians and the coordinators."""
    return can_manage_enrolments(user) or can_act_for(user, enrolment)


def can_view_payment(user: User | None, payment: Payment) -> bool:
    """A receipt: the child's guardians and the coordinators."""
    return can_view_enrolment(user, payment.enrolment)


def can_view_card_order(user: User | None, order: CardOrder) -> bool:
    """A card payment's state: the parent who paid and the coordinators."""
    if can_manage_enrolments(user):
        return True
    return bool(user is not None and user.is_authenticated and order.payer_id == user.id)
