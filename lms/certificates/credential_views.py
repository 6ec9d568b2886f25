"""Open Badges 3.0: the signed credential of a certificate, the lab's keys, the status list."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.certificates import baking, credentials, keys, services
from lms.certificates.codes import normalize_code
from lms.certificates.models import Certificate
from lms.errors import render_error
from lms.extensions import db, limiter

bp = Blueprint("credentials", __name__)


def _verify_limit() -> str:
    return current_app.config["VERIFY_LIMIT_PER_IP"]


def _public_credential(code: str) -> dict:
    """The credential of a code anyone may check (valid, revoked or replaced), else 404."""
    canonical = normalize_code(code[:60])
    result = services.verify(code[:60])
    if canonical is None or result.holder is None:
        abort(404)
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == canonical))
    rate = services.eligibility_of(certificate.enrolment).rate
    return credentials.credential(certificate, display_name=result.holder, attendance_rate=rate)


def _attachment(body: str, mimetype: str, name: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/verify/<code>/credential.json")
@limiter.limit(_verify_limit)
def credential_json(code: str):
    payload = _public_credential(code)
    return jsonify(payload)


@bp.get("/verify/<code>/credential.jwt")
@limiter.limit(_verify_limit)
def credential_jwt(code: str):
    token = credentials.sign(_public_credential(code))
    return _attachment(token, credentials.MEDIA_TYPE, f"{normalize_code(code)}.jwt")


@bp.get("/verify/<code>/badge.png")
@limiter.limit(_verify_limit)
def badge_png(code: str):
    """The track's badge image with the signed credential baked in (Open Badges "Baking")."""
    payload = _public_credential(code)
    track = payload["credentialSubject"]["achievement"]["fieldOfStudy"]
    image = baking.bake(baking.badge_image(track), credentials.sign(payload))
    return Response(
        image,
        mimetype="image/png",
        headers={"Content-Disposition": f'attachment; filename="{normalize_code(code)}.png"'},
    )


@bp.errorhandler(keys.SigningKeyError)
def no_signing_key(error: keys.SigningKeyError):
    # A fresh installation before `flask lms keys create` (make run creates one): say so.
    return render_error(
        503, _l("Signed credentials are not available yet: the lab has no signing key.")
    )


@bp.get("/.well-known/jwks.json")
def jwks():
    return jsonify(keys.published_key_set(current_app.instance_path))


@bp.get("/credentials/status")
def status_list():
    token = credentials.sign(credentials.status_list_credential())
    return Response(token, mimetype=credentials.MEDIA_TYPE, headers={"Cache-Control": "no-cache"})


@bp.get("/credentials/issuer")
def issuer():
    return jsonify(
        {
            "@context": [credentials.VC_CONTEXT, credentials.OB_CONTEXT],
            "id": credentials.url("credentials.issuer"),
            "type": ["Profile"],
            "name": credentials.ISSUER_NAME,
            "url": current_app.config["BASE_URL"],
        }
    )


@bp.get("/credentials/achievements/<int:course_id>")
def achievement(course_id: int):
    from lms.courses.models import Course

    course = db.get_or_404(Course, course_id)
    return jsonify(
        {
            "@context": [credentials.VC_CONTEXT, credentials.OB_CONTEXT],
            "id": credentials.url("credentials.achievement", course_id=course.id),
            "type": ["Achievement"],
            "name": course.title_fr,
        }
    )
