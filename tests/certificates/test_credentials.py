"""Open Badges 3.0 credentials: shape, signature with only the published keys, revocation."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from lms.accounts.models import User
from lms.certificates import baking, credentials, keys, services
from lms.certificates.models import Certificate
from lms.courses.models import Cohort
from lms.extensions import db

pytestmark = pytest.mark.usefixtures("attendance")
SCHEMA = json.loads(
    (Path(__file__).parent / "ob_v3p0_achievementcredential_required.schema.json").read_text()
)


@pytest.fixture
def issued(app, finished) -> list[str]:
    """The codes of the finished cohort's certificates, with a signing key."""
    with app.app_context():
        keys.create_key(app.instance_path)
        certificates = services.issue_to_all_eligible(
            db.session.get(Cohort, finished.cohort),
            actor=db.session.get(User, finished.coordinator),
        )
        db.session.commit()
        return [certificate.code for certificate in certificates]


def _payload(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _published(client) -> tuple[dict, dict]:
    jwks = client.get("/.well-known/jwks.json").get_json()
    status = client.get("/credentials/status").get_data(as_text=True)
    checked = credentials.verify_token(status, jwks)
    assert checked.signed
    return jwks, checked.credential


def test_the_credential_validates_against_the_schema_and_hides_the_child(client, issued):
    response = client.get(f"/verify/{issued[0]}/credential.json")
    assert response.status_code == 200
    credential = response.get_json()
    jsonschema.validate(credential, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert "OpenBadgeCredential" in credential["type"]
    identity = credential["credentialSubject"]["identifier"][0]
    assert identity["identityHash"].startswith("sha256$")
    text = json.dumps(credential, ensure_ascii=False)
    assert "@" not in text.replace("@context", "")  # no e-mail address
    assert "2016-" not in text
    assert "2017-" not in text
    criteria = credential["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert "l’atelier" in criteria
    assert "ورشة" in criteria
    assert "workshop" in criteria


def test_the_signature_verifies_with_only_the_published_keys(client, issued):
    token = client.get(f"/verify/{issued[0]}/credential.jwt").get_data(as_text=True)
    jwks, status = _published(client)
    checked = credentials.verify_token(token, jwks, status)
    assert checked.signed
    assert not checked.revoked
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["kid"] in {key["kid"] for key in jwks["keys"]}
    assert header["jku"].endswith("/.well-known/jwks.json")
    assert all("d" not in key for key in jwks["keys"])  # public halves only


def test_a_tampered_credential_is_refused(client, issued):
    token = client.get(f"/verify/{issued[0]}/credential.jwt").get_data(as_text=True)
    header, _, signature = token.split(".")
    payload = _payload(token)
    payload["credentialSubject"]["achievement"]["name"] = "Doctorat"
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    jwks, _ = _published(client)
    checked = credentials.verify_token(f"{header}.{body}.{signature}", jwks)
    assert not checked.signed
    assert checked.reason.startswith("bad signature")


def test_a_revoked_credential_shows_in_the_status_list_and_on_the_page(app, client, issued):
    token = client.get(f"/verify/{issued[1]}/credential.jwt").get_data(as_text=True)
    with app.app_context():
        from sqlalchemy import select

        certificate = db.session.scalar(select(Certificate).where(Certificate.code == issued[1]))
        boss = db.session.get(User, certificate.issued_by_id)
        services.revoke_certificate(certificate, actor=boss, reason="Erreur de groupe")
        db.session.commit()
    jwks, status = _published(client)
    assert credentials.verify_token(token, jwks, status).revoked
    other = client.get(f"/verify/{issued[0]}/credential.jwt").get_data(as_text=True)
    assert not credentials.verify_token(other, jwks, status).revoked
    page = client.get(f"/verify/{issued[1]}").get_data(as_text=True)
    assert "révoqué" in page
    assert f"/verify/{issued[1]}/credential.json" in page


def test_after_rotation_old_credentials_verify_until_their_key_is_retired(app, client, issued):
    old = client.get(f"/verify/{issued[0]}/credential.jwt").get_data(as_text=True)
    with app.app_context():
        previous = keys.active_key(app.instance_path)
        keys.create_key(app.instance_path)
    new = client.get(f"/verify/{issued[0]}/credential.jwt").get_data(as_text=True)
    jwks, _ = _published(client)
    assert credentials.verify_token(old, jwks).signed
    assert credentials.verify_token(new, jwks).signed
    with app.app_context():
        keys.retire_key(app.instance_path, previous.kid)
    jwks, _ = _published(client)
    assert previous.kid not in {key["kid"] for key in jwks["keys"]}
    checked = credentials.verify_token(old, jwks)
    assert not checked.signed
    assert checked.reason == "unknown key"
    assert credentials.verify_token(new, jwks).signed


def test_private_keys_are_owner_only_files_in_the_instance_folder(app, issued):
    folder = Path(app.instance_path) / keys.FOLDER
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    for path in folder.glob("*.json"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_active_key_cannot_be_retired(app, issued):
    with app.app_context(), pytest.raises(keys.SigningKeyError):
        keys.retire_key(app.instance_path, keys.active_key(app.instance_path).kid)


def test_unknown_codes_have_no_credential(client, issued):
    assert client.get("/verify/AL-0000-0000-0000/credential.json").status_code == 404


def test_the_status_list_bits():
    encoded = credentials.encode_bits({0, 7, 130000})
    assert encoded.startswith("u")
    assert credentials.bit_is_set(encoded, 7)
    assert credentials.bit_is_set(encoded, 130000)
    assert not credentials.bit_is_set(encoded, 8)


def test_the_keys_command(app):
    runner = app.test_cli_runner()
    assert "No key yet" in runner.invoke(args=["lms", "keys", "list"]).output
    assert "Signing key created" in runner.invoke(args=["lms", "keys", "create"]).output
    assert "Signing key now" in runner.invoke(args=["lms", "keys", "rotate"]).output
    listed = runner.invoke(args=["lms", "keys", "list"]).output
    assert "active" in listed
    assert "published" in listed


def test_the_badge_image_carries_the_signed_credential(client, issued):
    response = client.get(f"/verify/{issued[0]}/badge.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert f'filename="{issued[0]}.png"' in response.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(response.data))
    image.load()  # the chunk spliced in leaves a valid PNG (CRCs checked)
    assert image.size == (400, 400)
    # Pillow reads the iTXt chunk the way any wallet would.
    token = image.text["openbadgecredential"]
    assert token == baking.baked_credential(response.data)
    jwks, status = _published(client)
    checked = credentials.verify_token(token, jwks, status)
    assert checked.signed
    assert not checked.revoked
    assert checked.credential["id"].endswith(f"/verify/{issued[0]}/credential.json")
    achievement = checked.credential["credentialSubject"]["achievement"]
    assert achievement["image"]["id"].endswith(
        f"/static/img/badges/{achievement['fieldOfStudy']}.png"
    )
    assert client.get(achievement["image"]["id"].split("localhost", 1)[-1]).status_code == 200


def test_baking_again_replaces_the_credential_and_a_non_png_is_refused():
    image = baking.badge_image("coding")
    assert baking.baked_credential(image) is None
    twice = baking.bake(baking.bake(image, "first.token.sig"), "second.token.sig")
    assert baking.baked_credential(twice) == "second.token.sig"
    assert twice.count(baking.KEYWORD) == 1
    with pytest.raises(baking.NotAPng):
        baking.bake(b"GIF89a not a png", "x.y.z")
    with pytest.raises(baking.NotAPng):
        baking.bake(image[:40], "x.y.z")


def test_an_unknown_code_has_no_badge(client, issued):
    assert client.get("/verify/AL-NOPE-0000/badge.png").status_code == 404
