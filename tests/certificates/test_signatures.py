"""Signature images on certificates: what an upload must be, who may set one, and what the
certificates show, issued and regenerated."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.certificates import services, signatures
from lms.certificates.models import Certificate
from lms.courses.models import Cohort
from lms.extensions import db
from tests.conftest import login

pytestmark = pytest.mark.usefixtures("attendance")
PDFIMAGES = shutil.which("pdfimages")

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40">'
    b'<path d="M5 30 C 25 0, 45 40, 65 15 S 100 30, 115 10" fill="none" stroke="#1c2430"'
    b' stroke-width="3"/></svg>'
)


def png(width: int = 300, height: int = 100) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (28, 36, 48, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def svg(inside: str, attributes: str = "") -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        f' viewBox="0 0 10 10"{attributes}>{inside}</svg>'
    ).encode()


def test_a_png_and_an_svg_are_accepted():
    assert signatures.check(png()) == "png"
    assert signatures.check(SVG) == "svg"
    assert signatures.check(b'<?xml version="1.0"?>\n' + SVG) == "svg"
    # Links inside the drawing itself are fine.
    assert signatures.check(svg('<defs><path id="p" d="M0 0h5"/></defs><path d="M0 0"/>')) == "svg"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Choose a file."),
        (b"GIF89a" + b"\x00" * 40, "Choose a PNG or SVG image."),
        (b"x" * (signatures.MAX_BYTES + 1), "at most 200 KB"),
        (png()[:60], "damaged"),
        (png(2500, 40), "at most 2400 pixels"),
        (b"<svg><unclosed", "not well-formed"),
        (b'<html xmlns="http://www.w3.org/1999/xhtml"><svg></svg></html>', "PNG or SVG"),
        (svg("<script>alert(1)</script>"), "scripts"),
        (svg("", ' onload="alert(1)"'), "scripts"),
        (svg('<image href="https://example.com/x.png"/>'), "scripts"),
        (svg('<a xlink:href="https://example.com/"><path d="M0 0"/></a>'), "links"),
        (svg("<foreignObject><p>hi</p></foreignObject>"), "embedded"),
        (svg("<style>@import url(https://example.com/x.css);</style>"), "links"),
        (svg('<path style="fill: url(https://example.com/p)" d="M0 0"/>'), "links"),
        (b'<!DOCTYPE svg [<!ENTITY a "aaaa">]>' + SVG, "document type"),
    ],
)
def test_what_cannot_be_a_signature_is_refused_with_a_reason(data, message):
    with pytest.raises(signatures.SignatureRefused) as refused:
        signatures.check(data)
    assert message in str(refused.value.message)


def upload(client, user_id: int, data: bytes, name: str = "signature.png"):
    return client.post(
        f"/coordinator/signatures/{user_id}",
        data={"image": (io.BytesIO(data), name), "next": "/coordinator/signatures/"},
        content_type="multipart/form-data",
    )


def test_a_coordinator_sets_an_instructors_signature_and_a_bad_file_keeps_it(
    app, client, finished, coordinator, instructor
):
    login(client, coordinator)
    page = client.get("/coordinator/signatures/")
    assert page.status_code == 200
    assert instructor.full_name in page.get_data(as_text=True)

    response = upload(client, instructor.id, SVG, "signature.svg")
    assert response.status_code == 303
    with app.app_context():
        name = db.session.get(User, instructor.id).signature_image
        assert name.endswith(".svg")
        assert (Path(app.instance_path) / "signatures" / name).read_bytes() == SVG
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "staff.signature_set")
        )
        assert entry.subject_id == instructor.id
    served = client.get(f"/coordinator/signatures/files/{name}")
    assert served.mimetype == "image/svg+xml"
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]

    refused = upload(client, instructor.id, svg("<script>alert(1)</script>"), "evil.svg")
    assert refused.status_code == 303
    shown = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "contient des scripts, du contenu intégré ou des liens" in shown
    with app.app_context():
        assert db.session.get(User, instructor.id).signature_image == name  # kept

    assert client.post(f"/coordinator/signatures/{instructor.id}/remove").status_code == 303
    with app.app_context():
        assert db.session.get(User, instructor.id).signature_image is None
    # The file stays for the certificates that show it.
    assert (Path(app.instance_path) / "signatures" / name).is_file()


def test_the_refusal_is_in_the_coordinators_language(app, client, finished, coordinator):
    login(client, coordinator)
    response = upload(client, coordinator.id, b"GIF89a not an image", "x.gif")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choisissez une image PNG ou SVG." in page


def test_only_coordinators_reach_signatures_and_only_for_staff(
    app, client, finished, coordinator, instructor, parent
):
    for person in (instructor, parent):
        login(client, person)
        assert client.get("/coordinator/signatures/").status_code == 403
        assert upload(client, instructor.id, png()).status_code == 403
        assert client.post(f"/coordinator/signatures/{instructor.id}/remove").status_code == 403
        assert client.get(f"/coordinator/signatures/files/{'0' * 64}.png").status_code == 403
        client.post("/logout")
    login(client, coordinator)
    assert upload(client, parent.id, png()).status_code == 404
    assert upload(client, 999_999, png()).status_code == 404
    assert client.get("/coordinator/signatures/files/..%2F..%2Fsecret.png").status_code == 404
    assert client.get(f"/coordinator/signatures/files/{'0' * 64}.png").status_code == 404
    with app.app_context():
        assert db.session.get(User, parent.id).signature_image is None


def _images_in(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(  # noqa: S603 - fixed arguments
        [PDFIMAGES, "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split() for line in listing.strip().splitlines()[2:]]  # two header lines
    return sum(1 for row in rows if row[2] == "image")  # not the transparency masks


@pytest.mark.skipif(PDFIMAGES is None, reason="pdfimages (Debian package poppler-utils)")
def test_certificates_show_the_signatures_they_were_issued_with(
    app, finished, coordinator, instructor, tmp_path
):
    with app.app_context():
        boss = db.session.get(User, finished.coordinator)
        lead = db.session.get(User, instructor.id)
        cohort = db.session.get(Cohort, finished.cohort)
        typed = services.issue_to_all_eligible(cohort, actor=boss)[0]
        assert "signatures" not in typed.data
        typed_images = _images_in(services.certificate_pdf(typed), tmp_path)  # the QR code

        coordinator_file = signatures.set_signature(boss, png(), actor=boss)
        lead_file = signatures.set_signature(lead, SVG, actor=boss)
        signed = services.reissue_certificate(typed, actor=boss)
        db.session.commit()
        assert signed.data["signatures"] == {
            "coordinator": coordinator_file,
            "instructors": [lead_file],
        }
        pdf = services.certificate_pdf(signed)
        # The PNG is an image in the PDF; the SVG is drawn as vectors.
        assert _images_in(pdf, tmp_path) == typed_images + 1

        # A new signature later does not change what was issued: the file is regenerated
        # byte for byte with the signature it was issued with.
        signatures.set_signature(boss, png(320, 90), actor=boss)
        Path(app.instance_path, signed.pdf_path).unlink()
        assert services.certificate_pdf(signed) == pdf
        certificate = db.session.get(Certificate, signed.id)
        assert certificate.pdf_sha256
