"""What accounts answers for the notifications infrastructure: the consent ledger."""

from __future__ import annotations

from lms.notifications import hooks as notifications_hooks


def install() -> None:
    """Install the ledger's answers (idempotent)."""
    from lms.accounts.contact import account_of_number, is_consent_in_force, opt_out_by_keyword

    notifications_hooks.consent_in_force.provide(is_consent_in_force)
    notifications_hooks.opt_out.provide(opt_out_by_keyword)
    notifications_hooks.account_of_number.provide(account_of_number)
