"""What the notifications infrastructure asks the domain that keeps the consent ledger
(accounts): it imports no domain, so the answers are installed from above."""

from __future__ import annotations

from lms.hooks import Provider

# Is the consent ``consent_id`` still in force? Until a domain answers, no: nothing goes to
# a phone number without a consent someone can show.
consent_in_force: Provider[bool] = Provider("consent_in_force", lambda consent_id: False)

# A STOP arrived from ``phone`` on ``channel`` (the text as sent): withdraw the consents of that
# number on that channel. True if one was in force (the family is told once).
opt_out: Provider[bool] = Provider("opt_out", lambda *, channel, phone, text: False)

# Whose number is ``phone`` on ``channel`` (a guardian who consented to it there), for a
# message that quotes nothing the lab sent to that number: the account's id, or None.
account_of_number: Provider[int | None] = Provider(
    "account_of_number", lambda *, channel, phone: None
)
