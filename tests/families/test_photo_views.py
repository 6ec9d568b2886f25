"""The photo pages: a guardian adds, replaces and removes the photo; a bad file comes back on
the form with the reason (never a 500); the image is served only to who may see it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.clock import local_today
from lms.extensions import db
from lms.families import photos
from lms.families.children import set_photo
from lms.families.hooks import TeachingPeriod
from lms.families.models import Child, ConsentKind
from lms.roles import Role
from tests.conftest import get
from tests.families.test_photos import files, picture

pytestmark = pytest.mark.usefixtures("ctx")


def text(response) -> str:
    return response.get_data(as_text=True)


def reload(child: Child) -> Child:
    db.session.expire_all()
    return db.session.get(Child, child.id)


BOUNDARY = "photo-boundary-7d3"


def multipart(image: bytes, *, name: str, agreed: bool) -> bytes:
    """The body a browser sends (built here: the test client spools a large body to a
    temporary file that it never closes when the app stops reading early)."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; '
        f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + image
        + b"\r\n"
    ]
    if agreed:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="agreed"\r\n\r\ny\r\n'.encode()
        )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def upload(client, child: Child, data: bytes, *, agreed: bool = True, name: str = "face.jpg"):
    return client.post(
        f"/children/{child.id}/photo",
        data=multipart(data, name=name, agreed=agreed),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


@pytest.fixture
def with_photo(parent, child) -> Child:
    set_photo(child, picture(), actor=get(parent), agreed=True)
    db.session.commit()
    return reload(child)


class TestThePage:
    def test_the_form_says_who_sees_the_photo_and_that_publication_is_another_matter(
        self, login_as, parent, child
    ):
        response = login_as(parent).get(f"/children/{child.id}/photo")
        assert response.status_code == 200
        page = text(response)
        assert "the instructors of Zoubida's groups, the substitutes" in page
        assert "the lab's coordinators" in page
        assert 'This is not the "Photos and videos" consent' in page
        assert 'enctype="multipart/form-data"' in page
        assert 'name="agreed"' in page
        assert 'type="checkbox"' in page
        assert 'aria-describedby="who-sees"' in page

    def test_the_child_page_offers_to_add_a_photo(self, login_as, parent, child):
        page = text(login_as(parent).get(f"/children/{child.id}"))
        assert "Photo on the register" in page
        assert "the instructors see Zoubida's initials" in page
        assert f'href="/children/{child.id}/photo"' in page

    def test_another_family_gets_a_404(self, login_as, other_parent, child):
        assert login_as(other_parent).get(f"/children/{child.id}/photo").status_code == 404

    def test_staff_cannot_open_the_form(self, login_as, coordinator, child):
        assert login_as(coordinator).get(f"/children/{child.id}/photo").status_code == 403


class TestUpload:
    def test_a_parent_adds_a_photo(self, app, login_as, parent, child):
        client = login_as(parent)
        response = upload(client, child, picture("PNG"), name="face.png")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/children/{child.id}#register")
        child = reload(child)
        assert child.has_photo
        assert files(app) == [child.photo_image]
        page = text(client.get(f"/children/{child.id}"))
        assert "The photo is saved." in page
        assert f'src="/children/{child.id}/photo.jpg" alt="Zoubida Tahiri-Benslimane"' in page

    def test_replacing_keeps_one_file(self, app, login_as, parent, with_photo):
        old = with_photo.photo_image
        response = upload(login_as(parent), with_photo, picture("WEBP", colour=(0, 0, 255)))
        assert response.status_code == 302
        child = reload(with_photo)
        assert child.photo_image != old
        assert files(app) == [child.photo_image]

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"GIF89a not really", "This file could not be read as a photo"),
            (picture("JPEG")[:500], "This file could not be read as a photo"),
            (picture() + b"\0" * photos.MAX_BYTES, "The photo is too large: at most 5 MB."),
        ],
        ids=["not-an-image", "truncated", "over-5-mb"],
    )
    def test_a_bad_file_comes_back_on_the_form_and_nothing_changes(
        self, app, login_as, parent, with_photo, data, message
    ):
        before = with_photo.photo_image
        response = upload(login_as(parent), with_photo, data)
        assert response.status_code == 422
        page = text(response)
        assert message in page
        assert 'id="image-error"' in page
        child = reload(with_photo)
        assert child.photo_image == before
        assert files(app) == [before]
        assert len([r for r in child.consent_records if r.kind == ConsentKind.ID_PHOTO]) == 1

    def test_without_the_tick_box_nothing_is_stored(self, app, login_as, parent, child):
        response = upload(login_as(parent), child, picture(), agreed=False)
        assert response.status_code == 422
        assert "Tick the box to agree to who sees the photo." in text(response)
        assert reload(child).photo_image is None
        assert files(app) == []

    def test_without_a_file_the_form_asks_for_one(self, login_as, parent, child):
        response = login_as(parent).post(f"/children/{child.id}/photo", data={"agreed": "y"})
        assert response.status_code == 422
        assert "Choose a photo." in text(response)

    def test_a_request_far_too_large_gets_the_too_large_page(self, app, login_as, parent, child):
        from lms.families.photo_views import UPLOAD_LIMIT

        response = upload(login_as(parent), child, b"\0" * (UPLOAD_LIMIT + 1))
        assert response.status_code == 413
        assert files(app) == []

    def test_without_the_csrf_token_nothing_is_stored(self, app, login_as, parent, child):
        client = login_as(parent)
        app.config["WTF_CSRF_ENABLED"] = True
        response = upload(client, child, picture())
        assert response.status_code == 400
        assert reload(child).photo_image is None
        assert files(app) == []

    def test_another_family_cannot_upload(self, app, login_as, other_parent, child):
        assert upload(login_as(other_parent), child, picture()).status_code == 404
        assert files(app) == []

    def test_removing_deletes_the_file(self, app, login_as, parent, with_photo):
        response = login_as(parent).post(f"/children/{with_photo.id}/photo/remove")
        assert response.status_code == 302
        child = reload(with_photo)
        assert child.photo_image is None
        assert child.current_consent(ConsentKind.ID_PHOTO).granted is False
        assert files(app) == []


class TestServing:
    def test_a_guardian_gets_the_jpeg_kept_out_of_caches(self, login_as, parent, with_photo):
        response = login_as(parent).get(f"/children/{with_photo.id}/photo.jpg")
        assert response.status_code == 200
        assert response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.get_data().startswith(b"\xff\xd8")

    def test_a_coordinator_gets_it(self, login_as, coordinator, with_photo):
        response = login_as(coordinator).get(f"/children/{with_photo.id}/photo.jpg")
        assert response.status_code == 200

    def test_an_instructor_gets_it_only_while_teaching_the_child(
        self, app, login_as, instructor, with_photo, teaching
    ):
        client = login_as(instructor)
        url = f"/children/{with_photo.id}/photo.jpg"
        assert client.get(url).status_code == 403
        today = local_today()
        teaching[(instructor.id, with_photo.id)] = [
            TeachingPeriod(start=today - timedelta(days=10), cohort_end=today + timedelta(days=30))
        ]
        assert client.get(url).status_code == 200

    def test_another_parent_gets_a_404(self, login_as, other_parent, with_photo):
        response = login_as(other_parent).get(f"/children/{with_photo.id}/photo.jpg")
        assert response.status_code == 404

    def test_a_visitor_is_sent_to_log_in(self, client, with_photo):
        response = client.get(f"/children/{with_photo.id}/photo.jpg")
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]

    def test_no_photo_no_consent_or_no_file_is_a_404(self, app, login_as, parent, with_photo):
        client = login_as(parent)
        url = f"/children/{with_photo.id}/photo.jpg"
        photos.path_of(with_photo.photo_image).unlink()
        assert client.get(url).status_code == 404
        assert client.get("/children/999999/photo.jpg").status_code == 404

    def test_an_inactive_instructor_account_gets_nothing(
        self, make_user, login_as, with_photo, teaching
    ):
        staff = make_user(Role.INSTRUCTOR)
        client = login_as(staff)
        today = local_today()
        teaching[(staff.id, with_photo.id)] = [
            TeachingPeriod(start=today, cohort_end=today + timedelta(days=30))
        ]
        get(staff).active = False
        db.session.commit()
        assert client.get(f"/children/{with_photo.id}/photo.jpg").status_code in (302, 403)


class TestExport:
    def test_the_readable_copy_shows_the_photo_and_the_json_says_it_is_on_file(
        self, login_as, parent, with_photo
    ):
        client = login_as(parent)
        page = text(client.get("/family/export"))
        assert "Photo on the register" in page
        assert f'src="/children/{with_photo.id}/photo.jpg"' in page
        data = client.get("/family/export.json").get_json()
        assert data["children"][0]["photo_on_register"] is True


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Photo de Zoubida sur la liste d'appel", "« Photos et vidéos »", 'dir="ltr"']),
        ("ar", ["صورة Zoubida في لائحة الحضور", "«الصور ومقاطع الفيديو»", 'dir="rtl"']),
    ],
)
def test_the_form_in_french_and_arabic(login_as, parent, child, language, expected):
    client = login_as(parent)
    client.post("/language", data={"language": language})
    page = text(client.get(f"/children/{child.id}/photo"))
    for words in expected:
        assert words in page
