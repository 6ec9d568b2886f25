"""Card payment pages: the parent's "pay by card", the signed hand-off to CMI, the gateway's
callback (the only thing that marks a payment), the ok/fail landing pages (they only show
state), and, in local mode, a page that plays the hosted payment page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.test import Client

from lms.courses.terms import term_by_key
from lms.enrolment import card_payments
from lms.enrolment.forms import CardPaymentForm
from lms.enrolment.loaders import load_card_order, load_family_enrolment
from lms.enrolment.models import CardOrderStatus
from lms.extensions import csrf, db, limiter
from lms.families.children import children_of
from lms.forms import Form
from lms.roles import Role
from lms.security import CONTENT_SECURITY_POLICY, role_required

bp = Blueprint("card_payments", __name__, url_prefix="/payments/card")


@bp.post("/")
@role_required(Role.PARENT)
def start():
    form = CardPaymentForm()
    if not form.validate_on_submit():
        abort(400)
    enrolment_id = form.enrolment.data or ""
    enrolment = load_family_enrolment(int(enrolment_id)) if enrolment_id.isdigit() else None
    term = term_by_key(form.term.data or "") if enrolment is None else None
    if enrolment is None and term is None:
        abort(400)
    order = card_payments.open_card_order(
        current_user, children_of(current_user), term=term, enrolment=enrolment
    )
    return redirect(url_for(".pay", order_id=order.order_id), 303)


@bp.get("/<order_id>/pay")
@role_required(Role.PARENT)
def pay(order_id: str):
    order = load_card_order(order_id)
    if order.status == CardOrderStatus.PAID or not card_payments.card_payments_available():
        return redirect(url_for(".status", order_id=order.order_id))
    action = card_payments.gateway_url() or url_for(".local_gateway")
    fields = card_payments.gateway_fields(
        order,
        ok_url=url_for(".ok", _external=True),
        fail_url=url_for(".fail", _external=True),
        callback_url=url_for(".callback", _external=True),
        shop_url=url_for("dashboard.parent_home", _anchor="fees", _external=True),
        language=current_user.locale,
    )
    response = Response(
        render_template("enrolment/card_pay.html", order=order, action=action, fields=fields)
    )
    # The page's one form goes to the gateway, on another site.
    gateway = urlsplit(action)
    if gateway.scheme and gateway.netloc:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {gateway.scheme}://{gateway.netloc}"
        )
    return response


@bp.get("/<order_id>")
@role_required(Role.PARENT, Role.COORDINATOR)
def status(order_id: str):
    order = load_card_order(order_id)
    return render_template("enrolment/card_status.html", order=order)


@bp.post("/callback")
@csrf.exempt
@limiter.exempt
def callback():
    # The gateway calls from its servers: no session, no CSRF token; the hash is the proof.
    result = card_payments.settle_callback(request.form.to_dict())
    return Response(result.answer, mimetype="text/plain")


@bp.route("/ok", methods=["GET", "POST"])
@bp.route("/fail", methods=["GET", "POST"], endpoint="fail")
@csrf.exempt
def ok():
    # CMI posts the parent back here from its site, without our session cookie (SameSite):
    # this page changes nothing and sends the browser on to the order's page, where it is.
    order_id = (request.values.get("oid") or "")[:32]
    if not order_id:
        return redirect(url_for("dashboard.home"))
    return redirect(url_for(".status", order_id=order_id))


# ---------------------------------------------------------------------------------------------
# The local gateway (CMI_MODE "local", never in production)


def _local_only() -> None:
    if not card_payments.local_mode() or current_app.config["ENV"] == "production":
        abort(404)


@bp.post("/local-gateway")
@csrf.exempt
def local_gateway():
    """Plays CMI's hosted page: checks the shop's signed form and asks for a card."""
    _local_only()
    fields = request.form.to_dict()
    valid = card_payments.hash_v3(fields, card_payments.LOCAL_STORE_KEY) == fields.get("hash")
    if not valid or fields.get("clientid") != card_payments.LOCAL_CLIENT_ID:
        return render_template("enrolment/local_gateway.html", fields=None), 400
    return render_template("enrolment/local_gateway.html", fields=fields, form=Form())


@bp.post("/local-gateway/answer")
@csrf.exempt
def local_gateway_answer():
    """The card holder pays or gives up: the gateway calls the shop back, server to server,
    with a signed result, then sends the browser to the shop's ok or fail page."""
    _local_only()
    shop = {k: v for k, v in request.form.items() if k not in ("decision", "csrf_token")}
    if card_payments.hash_v3(shop, card_payments.LOCAL_STORE_KEY) != shop.get("hash"):
        abort(400)
    approved = request.form.get("decision") == "pay"
    result = {k: v for k, v in shop.items() if k != "hash"}
    result.update(
        {
            "ProcReturnCode": "00" if approved else "05",
            "Response": "Approved" if approved else "Declined",
            "AuthCode": "LOCAL1" if approved else "",
            "TransId": f"LOCAL{shop.get('oid', '')[-8:]}",
            "mdStatus": "1",
            "HASHPARAMSVAL": "",
        }
    )
    result["HASH"] = card_payments.hash_v3(result, card_payments.LOCAL_STORE_KEY)
    # The gateway is another party: it holds none of our transactions while it calls back
    # (on SQLite ours would lock the callback out).
    db.session.rollback()
    answer = _deliver(result)
    # Back to the shop's ok or fail page: only this app's (it posts nowhere else).
    return render_template(
        "enrolment/local_gateway_done.html",
        approved=approved,
        answer=answer,
        target=url_for(".ok" if approved else ".fail"),
        oid=shop.get("oid", ""),
    )


def _deliver(result: dict[str, str]) -> str:
    """POST the callback to this app's callback URL, through the whole WSGI stack."""
    app = current_app._get_current_object()
    response = Client(app).post(url_for(".callback"), data=result)
    return response.get_data(as_text=True)


@bp.app_context_processor
def card_names():
    return {
        "card_order_status_names": CardOrderStatus.labels(),
        "card_payments_open": card_payments.card_payments_available,
    }
