"""Each certificate as an Open Badges 3.0 credential, signed as a VC-JWT with the lab's key.

The credential follows the W3C Verifiable Credentials data model 2.0 and Open Badges 3.0
(``OpenBadgeCredential``). The child is identified only by a salted SHA-256 ``identityHash``
of the name on the certificate (never an e-mail address or a birth date); the salt is derived
from the code with the app's secret, so the family can prove the name and nobody can guess
it. Revocation is published as a W3C Bitstring Status List: bit ``certificate.id`` of the
list is 1 once the certificate is revoked or replaced.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, url_for
from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy import select

from lms.certificates import keys
from lms.certificates.models import Certificate, CertificateStatus
from lms.extensions import db

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
STATUS_LIST_BITS = 131072  # 16 KiB, the minimum the Bitstring Status List asks for (privacy)
MEDIA_TYPE = "application/vc+jwt"
ISSUER_NAME = "Active Labs — Technopark de Tanger"
CRITERIA = {
    "fr": "Avoir suivi l’atelier « {title} » jusqu’à sa dernière séance, avec le taux de "
    "présence demandé par le cours{project}.",
    "ar": "متابعة ورشة «{title_ar}» حتى آخر حصة، بنسبة الحضور التي يطلبها البرنامج{project_ar}.",
    "en": "Attended the workshop “{title_en}” to its last lesson, with the attendance rate the "
    "course requires{project_en}.",
}


def url(endpoint: str, **values) -> str:
    """An absolute URL of this site, inside or outside a request."""
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def identity_salt(code: str) -> str:
    """The salt of a certificate's identity hash: from its code and the app's secret."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"identity-salt:{code}".encode(), hashlib.sha256).hexdigest()[:32]


def identity_hash(name: str, salt: str) -> str:
    """``sha256$`` and the hex SHA-256 of the name followed by the salt (OB 3.0 IdentityHash)."""
    return "sha256$" + hashlib.sha256((name + salt).encode("utf-8")).hexdigest()


def credential(
    certificate: Certificate, *, display_name: str, attendance_rate: float | None = None
) -> dict:
    """The unsigned OpenBadgeCredential of ``certificate`` (plain JSON values).

    ``display_name`` is the only name in clear: the one the verification page shows.
    """
    data = certificate.data
    course = certificate.cohort.course
    project = bool(course.requires_final_project)
    criteria = "\n\n".join(
        text.format(
            title=data["course_title_fr"],
            title_ar=data["course_title_ar"],
            title_en=data.get("course_title_en") or data["course_title_fr"],
            project=" et réalisé le projet final" if project else "",
            project_ar="، وإنجاز المشروع النهائي" if project else "",
            project_en=" and completed the final project" if project else "",
        )
        for text in CRITERIA.values()
    )
    achievement_id = url("credentials.achievement", course_id=course.id)
    subject = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": identity_hash(data["child_name"], identity_salt(certificate.code)),
                "identityType": "name",
                "hashed": True,
                "salt": identity_salt(certificate.code),
            }
        ],
        "activityStartDate": f"{data['start_date']}T00:00:00Z",
        "activityEndDate": f"{data['end_date']}T23:59:59Z",
        "achievement": {
            "id": achievement_id,
            "type": ["Achievement"],
            "achievementType": "Course",
            "name": data["course_title_fr"],
            "description": f"{data['course_title_fr']} — {data['course_title_ar']}",
            "criteria": {"narrative": criteria},
            "image": {
                # A credential names its image for good: the URL without the file's version.
                "id": url("static", filename=f"img/badges/{data['track']}.png", v=None),
                "type": "Image",
            },
            "fieldOfStudy": data["track"],
            "tag": [data["track"], course.level],
            "inLanguage": "fr",
            "resultDescription": [
                {
                    "id": f"{achievement_id}#attendance",
                    "type": ["ResultDescription"],
                    "name": "Taux de présence / نسبة الحضور / Attendance rate",
                    "resultType": "Percent",
                }
            ],
        },
    }
    if attendance_rate is not None:
        subject["result"] = [
            {
                "type": ["Result"],
                "resultDescription": f"{achievement_id}#attendance",
                "value": f"{attendance_rate:.0f}",
            }
        ]
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": url("credentials.credential_json", code=certificate.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{data['course_title_fr']} — {display_name}",
        "issuer": {
            "id": url("credentials.issuer"),
            "type": ["Profile"],
            "name": ISSUER_NAME,
            "url": current_app.config["BASE_URL"],
        },
        "validFrom": _instant(certificate.issued_at),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": url("credentials.status_list", _anchor=str(certificate.id)),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(certificate.id),
            "statusListCredential": url("credentials.status_list"),
        },
        "credentialSchema": [{"id": SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def sign(payload: dict) -> str:
    """``payload`` as a compact JWS (VC-JWT) signed with the active key; ``kid`` and ``jku``."""
    key = keys.active_key(current_app.instance_path)
    header = {
        "alg": keys.ALGORITHM,
        "typ": "vc+jwt",
        "cty": "vc",
        "kid": key.kid,
        "jku": url("credentials.jwks"),
    }
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return jws.serialize_compact(header, body.encode(), key.key, algorithms=[keys.ALGORITHM])


@dataclass(frozen=True)
class Checked:
    """What a verifier finds: a good signature, the credential, and whether it was revoked."""

    signed: bool
    reason: str = ""
    credential: dict | None = None
    revoked: bool = False


def verify_token(token: str, key_set: dict, status_list: dict | None = None) -> Checked:
    """Check a VC-JWT with only the published keys (and, if given, the status list)."""
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        found = keys.import_key_set(key_set)
        if header.get("kid") not in {key.kid for key in found.keys}:
            return Checked(False, "unknown key")
        result = jws.deserialize_compact(token, found, algorithms=[keys.ALGORITHM])
    except (JoseError, ValueError, IndexError) as error:
        return Checked(False, f"bad signature: {type(error).__name__}")
    payload = json.loads(result.payload)
    revoked = False
    if status_list is not None:
        index = int(payload["credentialStatus"]["statusListIndex"])
        revoked = bit_is_set(status_list["credentialSubject"]["encodedList"], index)
    return Checked(True, credential=payload, revoked=revoked)


# --- Bitstring Status List -------------------------------------------------------------------


def encode_bits(set_bits: set[int], size: int = STATUS_LIST_BITS) -> str:
    """Multibase (``u``, base64url, no padding) of the GZIP of the bitstring, bit 0 first."""
    raw = bytearray(size // 8)
    for index in set_bits:
        raw[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(raw), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def bit_is_set(encoded: str, index: int) -> bool:
    """Whether bit ``index`` of an encoded list is 1."""
    data = encoded[1:] + "=" * (-len(encoded[1:]) % 4)
    raw = gzip.decompress(base64.urlsafe_b64decode(data))
    return bool(raw[index // 8] & (0x80 >> (index % 8)))


def status_list_credential() -> dict:
    """The revocation list of every certificate, as a BitstringStatusListCredential."""
    revoked = set(
        db.session.scalars(
            select(Certificate.id).where(Certificate.status != CertificateStatus.VALID)
        )
    )
    address = url("credentials.status_list")
    return {
        "@context": [VC_CONTEXT],
        "id": address,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": url("credentials.issuer"),
        "validFrom": _instant(datetime(2026, 1, 1, tzinfo=UTC)),
        "credentialSubject": {
            "id": f"{address}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bits({index for index in revoked if index < STATUS_LIST_BITS}),
        },
    }
