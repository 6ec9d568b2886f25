"""Login throttling that slows a password guesser without locking the owner out.

Failed logins are counted twice, in the rate-limit storage every server shares
(``RATELIMIT_STORAGE_URI``), over ``LOGIN_FAILURE_WINDOW_SECONDS``:

- per account *and* address: after ``LOGIN_FREE_FAILURES_PER_ACCOUNT`` failures, each further
  failure makes that pair wait, twice as long each time (``LOGIN_FIRST_DELAY_SECONDS``, then
  double, at most ``LOGIN_MAX_DELAY_SECONDS``). A stranger elsewhere cannot keep the owner
  out: the owner's own address is another pair. The account's part of the key changes with its
  password, so a successful reset starts afresh, and a successful login clears the pair;
- per address, across accounts: only past ``LOGIN_FREE_FAILURES_PER_ADDRESS`` (one person
  trying many accounts), with the same growing delay, so forty families behind one lab's
  address never wait for one person's typing mistakes.

While a pair or an address waits, attempts are refused before the password is checked: they
neither reveal anything nor count again. Unknown addresses are counted like real ones, so
the delays say nothing about which accounts exist.
"""

from __future__ import annotations

import hashlib
import time

from flask import current_app, request

from lms.accounts.services import find_user_by_email, normalize_email
from lms.extensions import limiter


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _pair_key(email: str) -> str:
    email = normalize_email(email)
    user = find_user_by_email(email)
    # A new password (a reset) gives the account a new key: the old failures no longer count.
    generation = _digest(user.password_hash or "") if user is not None else "-"
    return "login:pair:" + _digest(email, generation, request.remote_addr or "")


def _address_key() -> str:
    return "login:addr:" + _digest(request.remote_addr or "")


def _enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"])


def _delay(failures: int, free: int) -> int:
    """Seconds to wait after ``failures`` failures, ``free`` of which cost nothing."""
    if failures < free:
        return 0
    config = current_app.config
    first, longest = config["LOGIN_FIRST_DELAY_SECONDS"], config["LOGIN_MAX_DELAY_SECONDS"]
    return min(longest, first * 2 ** min(failures - free, 20))


class LoginThrottle:
    """The throttle for one login attempt (an e-mail typed, from this request's address)."""

    def __init__(self, email: str) -> None:
        self.pair = _pair_key(email)
        self.address = _address_key()

    def wait_seconds(self) -> int:
        """How long this attempt must wait before a password is checked (0: go ahead)."""
        if not _enabled():
            return 0
        storage = limiter.storage
        waits = [
            storage.get_expiry(f"{key}:wait") - time.time()
            for key in (self.pair, self.address)
            if storage.get(f"{key}:wait")
        ]
        return max(0, int(max(waits, default=0)) + 1) if waits else 0

    def failed(self) -> None:
        """Count a wrong password; start a wait when a limit is passed."""
        if not _enabled():
            return
        config = current_app.config
        storage = limiter.storage
        window = config["LOGIN_FAILURE_WINDOW_SECONDS"]
        for key, free in (
            (self.pair, config["LOGIN_FREE_FAILURES_PER_ACCOUNT"]),
            (self.address, config["LOGIN_FREE_FAILURES_PER_ADDRESS"]),
        ):
            failures = storage.incr(key, window)
            delay = _delay(failures, free)
            if delay:
                storage.clear(f"{key}:wait")
                storage.incr(f"{key}:wait", delay)

    def succeeded(self) -> None:
        """The owner got in: this pair's failures are forgotten (the address's are not)."""
        if not _enabled():
            return
        limiter.storage.clear(self.pair)
        limiter.storage.clear(f"{self.pair}:wait")
