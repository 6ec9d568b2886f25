"""Card payments through CMI's hosted payment page (3D Secure, ``storetype`` 3D_PAY_HOSTING).

A parent asks to pay what the family owes for a term, or for one enrolment: ``open_card_order``
writes a pending order with what it pays, and ``gateway_fields`` signs the form the parent's
browser posts to CMI. CMI then calls back, server to server, with the result; ``settle_callback``
is the only thing that marks an order paid: the hash is checked in constant time, then the
order and its amount against our record, and a ``ProcReturnCode`` of 00 books one payment and
one receipt per enrolment the order pays. The same callback delivered again books nothing more
(a conditional update of the order, and a unique constraint on order and enrolment); a forged,
altered or replayed-for-another-order callback books nothing and is logged.

The hash is CMI's version 3: every parameter but ``hash`` and ``encoding``, sorted by name
without regard to case, each value with ``\\`` and ``|`` escaped, joined with ``|``, the
escaped store key appended after a last ``|``; SHA-512 of that, in base64.

``CMI_MODE`` "local" (the default) plays the gateway inside the app (card_views.py) with a
development store key, so the flow works with ``make run``; it is refused in production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from lms.accounts.models import User
from lms.audit.services import record
from lms.courses.terms import Term
from lms.database import utcnow
from lms.enrolment.fees import book_payment, owed_enrolments
from lms.enrolment.models import (
    CardOrder,
    CardOrderLine,
    CardOrderStatus,
    PaymentMethod,
)
from lms.enrolment.seats import local_day
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child

log = logging.getLogger(__name__)

CURRENCY_MAD = "504"  # ISO 4217 numeric code of the dirham
GATEWAYS = {
    "test": "https://testpayment.cmi.co.ma/fim/est3Dgate",
    "production": "https://payment.cmi.co.ma/fim/est3Dgate",
}
# The local gateway's key: it signs nothing outside this machine (refused in production).
LOCAL_CLIENT_ID = "600000000"
LOCAL_STORE_KEY = "local-gateway-store-key"
# CMI's answers to its callback: capture the payment; acknowledged (a refused card); refused.
ANSWER_CAPTURE = "ACTION=POSTAUTH"
ANSWER_ACKNOWLEDGED = "APPROVED"
ANSWER_REFUSED = "FAILURE"
LANGUAGES = ("fr", "ar", "en")
_UNSIGNED = frozenset({"hash", "encoding"})

UNAVAILABLE = _l("Card payment is not available at the moment. Pay by transfer or at the lab.")


# ---------------------------------------------------------------------------------------------
# The gateway's settings and its hash


def local_mode() -> bool:
    return current_app.config["CMI_MODE"] == "local"


def card_payments_available() -> bool:
    """Whether families may pay by card: a real gateway with its keys, or the local one
    outside production."""
    config = current_app.config
    if local_mode():
        return config["ENV"] != "production"
    return bool(gateway_url() and config["CMI_CLIENT_ID"] and config["CMI_STORE_KEY"])


def gateway_url() -> str | None:
    """Where the parent's browser posts the signed form (None: the local page, by URL)."""
    config = current_app.config
    return config["CMI_GATEWAY_URL"] or GATEWAYS.get(config["CMI_MODE"])


def client_id() -> str:
    return current_app.config["CMI_CLIENT_ID"] or (LOCAL_CLIENT_ID if local_mode() else "")


def store_key() -> str:
    return current_app.config["CMI_STORE_KEY"] or (LOCAL_STORE_KEY if local_mode() else "")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


def hash_v3(params: Mapping[str, str], key: str) -> str:
    """CMI's hash (version 3) of the parameters of a form or a callback."""
    names = sorted((name for name in params if name.lower() not in _UNSIGNED), key=str.lower)
    plain = "|".join(_escape(str(params[name])) for name in names) + "|" + _escape(key)
    return base64.b64encode(hashlib.sha512(plain.encode("utf-8")).digest()).decode("ascii")


def signed(params: Mapping[str, str], key: str) -> dict[str, str]:
    """The parameters with their ``hash``."""
    return {**params, "hash": hash_v3(params, key)}


def amount_text(amount_centimes: int) -> str:
    """An amount as CMI reads it: dirhams with a dot and two decimals ("1600.00")."""
    return f"{amount_centimes // 100}.{amount_centimes % 100:02d}"


def parse_amount(text: str | None) -> int | None:
    """Centimes of an amount CMI sent back, or None if it is not one."""
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


# ---------------------------------------------------------------------------------------------
# Orders


def open_card_order(
    payer: User, children: Sequence[Child], *, term: Term | None = None, enrolment=None
) -> CardOrder:
    """A pending order for what ``payer``'s family owes in ``term`` (or for one enrolment)."""
    if not card_payments_available():
        raise DomainError(UNAVAILABLE)
    if enrolment is not None:
        owed = [e for e in owed_enrolments([enrolment.child_id]) if e.id == enrolment.id]
    else:
        owed = owed_enrolments([child.id for child in children], term)
    if not owed:
        raise DomainError(_l("Nothing is owed: there is nothing to pay."))
    order = CardOrder(
        order_id=f"AL{secrets.token_hex(10).upper()}",
        payer_id=payer.id,
        amount_centimes=sum(e.balance_centimes for e in owed),
        status=CardOrderStatus.PENDING,
        lines=[CardOrderLine(enrolment=e, amount_centimes=e.balance_centimes) for e in owed],
    )
    db.session.add(order)
    db.session.flush()
    record(
        "card_order.opened",
        actor=payer,
        subject=order,
        order_id=order.order_id,
        amount_centimes=order.amount_centimes,
    )
    return order


def gateway_fields(
    order: CardOrder,
    *,
    ok_url: str,
    fail_url: str,
    callback_url: str,
    shop_url: str,
    language: str,
) -> dict[str, str]:
    """The signed form the parent's browser posts to the hosted payment page."""
    payer = order.payer
    fields = {
        "clientid": client_id(),
        "storetype": "3D_PAY_HOSTING",
        "hashAlgorithm": "ver3",
        "TranType": "PreAuth",
        "amount": amount_text(order.amount_centimes),
        "currency": CURRENCY_MAD,
        "oid": order.order_id,
        "okUrl": ok_url,
        "failUrl": fail_url,
        "callbackUrl": callback_url,
        "shopurl": shop_url,
        "lang": language if language in LANGUAGES else "fr",
        "rnd": secrets.token_hex(10),
        "BillToName": payer.full_name if payer else "",
        "email": payer.email if payer else "",
        "CallbackResponse": "true",
        "AutoRedirect": "true",
        "encoding": "UTF-8",
    }
    return signed(fields, store_key())


def order_by_number(order_id: str | None) -> CardOrder | None:
    if not order_id:
        return None
    return db.session.scalar(select(CardOrder).where(CardOrder.order_id == order_id[:32]))


# ---------------------------------------------------------------------------------------------
# The callback


@dataclass(frozen=True)
class CallbackResult:
    answer: str  # the text CMI reads
    booked: int  # payments written by this delivery


def _refuse(reason: str, params: Mapping[str, str]) -> CallbackResult:
    log.warning(
        "CMI callback refused (%s): oid=%r amount=%r ProcReturnCode=%r",
        reason,
        params.get("oid"),
        params.get("amount"),
        params.get("ProcReturnCode"),
    )
    return CallbackResult(ANSWER_REFUSED, 0)


def settle_callback(params: Mapping[str, str]) -> CallbackResult:
    """Check a callback of the gateway and book what it says was paid, once."""
    key = store_key()
    received = params.get("HASH") or params.get("hash") or ""
    if not key or not hmac.compare_digest(hash_v3(params, key).encode(), received.encode()):
        return _refuse("hash", params)
    if params.get("clientid") != client_id():
        return _refuse("client id", params)
    order = db.session.scalar(
        select(CardOrder).where(CardOrder.order_id == (params.get("oid") or "")).with_for_update()
    )
    if order is None:
        return _refuse("unknown order", params)
    if (
        parse_amount(params.get("amount")) != order.amount_centimes
        or params.get("currency", CURRENCY_MAD) != CURRENCY_MAD
    ):
        return _refuse("amount", params)
    code = (params.get("ProcReturnCode") or "")[:4]
    if code != "00":
        # A refused card: the order stays payable (the parent may try another card).
        db.session.execute(
            update(CardOrder)
            .where(CardOrder.id == order.id, CardOrder.status == CardOrderStatus.PENDING)
            .values(status=CardOrderStatus.DECLINED, response_code=code)
            .execution_options(synchronize_session=False)
        )
        log.info("CMI callback: order %s declined (%s)", order.order_id, code)
        return CallbackResult(ANSWER_ACKNOWLEDGED, 0)
    # Only the delivery that moves the order to "paid" books: the others find it paid.
    moved = db.session.execute(
        update(CardOrder)
        .where(CardOrder.id == order.id, CardOrder.status != CardOrderStatus.PAID)
        .values(
            status=CardOrderStatus.PAID,
            settled_at=utcnow(),
            response_code=code,
            transaction_id=(params.get("TransId") or "")[:64] or None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        return CallbackResult(ANSWER_CAPTURE, 0)
    db.session.refresh(order)
    return CallbackResult(ANSWER_CAPTURE, len(_book(order)))


def _book(order: CardOrder) -> list:
    paid_on = local_day(utcnow())
    payments = [
        book_payment(
            line.enrolment,
            amount_centimes=line.amount_centimes,
            method=PaymentMethod.CARD,
            paid_on=paid_on,
            reference=f"CMI {order.transaction_id or order.order_id}",
            card_order_id=order.id,
        )
        for line in order.lines
    ]
    record(
        "card_order.paid",
        actor=None,
        subject=order,
        order_id=order.order_id,
        amount_centimes=order.amount_centimes,
        payments=[p.id for p in payments],
    )
    return payments
