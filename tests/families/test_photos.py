"""The photo on the register: checked and re-encoded (never a 500, nothing changed on a
refusal), its own consent, files that follow the transaction, the guardians' pages, erasure
and the export."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from PIL import Image

from lms.clock import local_today
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families import photos
from lms.families.children import (
    record_consent,
    remove_photo,
    set_photo,
    set_photo_consent,
)
from lms.families.data_rights import erase_account, erase_child, export_family, purge
from lms.families.models import Child, ConsentKind
from lms.families.photos import PhotoRefused
from tests.conftest import PASSWORD, get

pytestmark = pytest.mark.usefixtures("ctx")


def picture(kind: str = "JPEG", size=(640, 480), colour=(200, 30, 30), **save) -> bytes:
    """A real image made with Pillow, in ``kind`` (JPEG, PNG, WEBP)."""
    mode = "RGBA" if kind == "PNG" else "RGB"
    image = Image.new(mode, size, colour)
    out = io.BytesIO()
    image.save(out, kind, **save)
    return out.getvalue()


def stored(child: Child) -> Image.Image:
    path = photos.path_of(child.photo_image)
    assert path is not None
    return Image.open(path)


def files(app) -> list[str]:
    folder = photos.folder()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def reload(child: Child) -> Child:
    db.session.expire_all()
    return db.session.get(Child, child.id)


def add_photo(child: Child, guardian, data: bytes | None = None) -> Child:
    set_photo(child, data or picture(), actor=get(guardian), agreed=True)
    db.session.commit()
    return reload(child)


# ---------------------------------------------------------------------------------------------
# Checking and re-encoding


class TestEncoding:
    @pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
    def test_jpeg_png_and_webp_become_a_small_square_jpeg(self, app, parent, child, kind):
        child = add_photo(child, parent, picture(kind, size=(900, 600)))
        with stored(child) as image:
            assert (image.format, image.size, image.mode) == ("JPEG", (256, 256), "RGB")
        assert child.has_photo
        assert files(app) == [child.photo_image]

    def test_exif_and_gps_are_stripped_and_the_orientation_applied(self, parent, child):
        original = Image.new("RGB", (400, 200), "blue")
        exif = original.getexif()
        exif[0x0112] = 6  # orientation: rotate 90° to show upright
        exif[0x010F] = "PhoneMaker"
        exif.get_ifd(0x8825)[2] = (35.0, 46.0, 0.0)  # GPS latitude
        out = io.BytesIO()
        original.save(out, "JPEG", exif=exif)
        assert b"PhoneMaker" in out.getvalue()
        child = add_photo(child, parent, out.getvalue())
        data = photos.path_of(child.photo_image).read_bytes()
        assert b"PhoneMaker" not in data
        assert b"Exif" not in data
        with stored(child) as image:
            assert not image.getexif()
            assert "icc_profile" not in image.info

    def test_a_transparent_png_is_put_on_white(self, parent, child):
        child = add_photo(child, parent, picture("PNG", colour=(0, 0, 0, 0)))
        with stored(child) as image:
            assert image.getpixel((128, 128)) >= (250, 250, 250)

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"", "Choose a photo."),
            (b"%PDF-1.7 not a photo at all", "could not be read as a photo"),
            (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "could not be read as a photo"),
            (picture("GIF"), "could not be read as a photo"),
            (picture("JPEG")[:600], "could not be read as a photo"),  # truncated
            (picture("PNG")[:-30], "could not be read as a photo"),  # truncated
            (b"\xff\xd8\xff\xe0" + b"\0" * 4000, "could not be read as a photo"),  # damaged
        ],
        ids=["empty", "pdf", "svg", "gif", "truncated-jpeg", "truncated-png", "damaged"],
    )
    def test_what_is_not_a_decodable_photo_is_refused(self, app, parent, child, data, message):
        with pytest.raises(PhotoRefused, match=message) as refused:
            set_photo(child, data, actor=get(parent), agreed=True)
        assert refused.value.field == "image"
        db.session.rollback()
        child = reload(child)
        assert child.photo_image is None
        assert child.current_consent(ConsentKind.ID_PHOTO) is None
        assert files(app) == []

    def test_a_file_over_5_mb_is_refused(self, app, parent, child):
        with pytest.raises(PhotoRefused, match="at most 5 MB"):
            set_photo(child, picture() + b"\0" * photos.MAX_BYTES, actor=get(parent), agreed=True)
        assert files(app) == []

    def test_too_many_pixels_is_refused_before_decoding(self, app, parent, child):
        # A 8000 x 8000 PNG of one colour weighs little but would take 192 MB to decode.
        huge = picture("PNG", size=(8000, 8000), optimize=True)
        assert len(huge) < photos.MAX_BYTES
        with pytest.raises(PhotoRefused, match="too many pixels"):
            set_photo(child, huge, actor=get(parent), agreed=True)
        assert files(app) == []

    def test_initials_stand_for_a_missing_photo(self):
        assert photos.initials("Adam Alaoui") == "A\u200cA"
        assert photos.initials("adam tahiri benslimane") == "A\u200cB"
        assert photos.initials("آدم العلوي") == "آ\u200cع"
        assert photos.initials("Rania") == "R"
        assert photos.initials("") == "?"


# ---------------------------------------------------------------------------------------------
# Consent, replace, remove, and files that follow the transaction


class TestService:
    def test_adding_records_the_consent_on_the_register_only(self, parent, child):
        child = add_photo(child, parent)
        record = child.current_consent(ConsentKind.ID_PHOTO)
        assert record.granted
        assert record.notice_version == "2026-12"
        # The publication consent is another question, left undecided.
        assert child.current_consent(ConsentKind.PHOTO) is None

    def test_without_the_tick_nothing_is_stored(self, app, parent, child):
        with pytest.raises(DomainError) as refused:
            set_photo(child, picture(), actor=get(parent), agreed=False)
        assert refused.value.field == "agreed"
        db.session.rollback()
        assert reload(child).photo_image is None
        assert files(app) == []

    def test_only_a_guardian_adds_a_photo(self, app, other_parent, coordinator, child):
        for stranger in (other_parent, coordinator):
            with pytest.raises(DomainError, match="guardians"):
                set_photo(child, picture(), actor=get(stranger), agreed=True)
        assert files(app) == []

    def test_replacing_deletes_the_old_file_once_committed(self, app, parent, child):
        child = add_photo(child, parent, picture(colour=(255, 0, 0)))
        old = child.photo_image
        set_photo(child, picture(colour=(0, 0, 255)), actor=get(parent), agreed=True)
        new = child.photo_image
        assert new != old
        assert files(app) == sorted([old, new])  # until the commit, the old one stays
        db.session.commit()
        assert files(app) == [new]
        with stored(reload(child)) as image:
            red, _, blue = image.getpixel((128, 128))
            assert blue > 200
            assert red < 50

    def test_a_change_rolled_back_keeps_the_old_photo_and_deletes_the_new_file(
        self, app, parent, child
    ):
        child = add_photo(child, parent)
        old = child.photo_image
        set_photo(child, picture(colour=(0, 255, 0)), actor=get(parent), agreed=True)
        db.session.rollback()
        assert reload(child).photo_image == old
        assert files(app) == [old]

    def test_removing_withdraws_the_consent_and_deletes_the_file(self, app, parent, child):
        child = add_photo(child, parent)
        remove_photo(child, actor=get(parent))
        db.session.commit()
        child = reload(child)
        assert child.photo_image is None
        assert not child.has_photo
        assert child.current_consent(ConsentKind.ID_PHOTO).granted is False
        assert files(app) == []

    def test_withdrawing_the_consent_deletes_the_photo(self, app, parent, child):
        child = add_photo(child, parent)
        record_consent(child, actor=get(parent), kind=ConsentKind.ID_PHOTO, granted=False)
        db.session.commit()
        assert reload(child).photo_image is None
        assert files(app) == []

    def test_the_publication_consent_does_not_touch_the_photo(self, app, parent, child):
        child = add_photo(child, parent)
        set_photo_consent(child, actor=get(parent), granted=False)
        db.session.commit()
        child = reload(child)
        assert child.has_photo
        assert files(app) == [child.photo_image]

    def test_a_new_notice_asks_the_guardians_to_confirm(self, app, parent, child):
        from lms.families.children import child_alerts

        child = add_photo(child, parent)
        app.config["ID_PHOTO_NOTICE_VERSION"] = "2027-06"
        assert "photo on the register has changed" in " ".join(map(str, child_alerts(child)))


# ---------------------------------------------------------------------------------------------
# Erasure and the export


class TestDataRights:
    def test_erasing_the_child_deletes_the_photo(self, app, parent, child):
        child = add_photo(child, parent)
        erase_child(child, actor=get(parent), password=PASSWORD)
        db.session.commit()
        assert reload(child).photo_image is None
        assert files(app) == []

    def test_erasing_the_account_deletes_the_photo(self, app, parent, child):
        add_photo(child, parent)
        erase_account(get(parent), password=PASSWORD)
        db.session.commit()
        assert reload(child).photo_image is None
        assert files(app) == []

    def test_the_retention_purge_deletes_the_photo_with_the_safeguarding_data(
        self, app, last_cohort_ends, parent, child
    ):
        child = add_photo(child, parent)
        last_cohort_ends[child.id] = local_today() - timedelta(days=400)
        assert purge(now=utcnow()).safeguarding_erased == [child.id]
        db.session.commit()
        assert reload(child).photo_image is None
        assert files(app) == []

    def test_the_export_says_whether_a_photo_is_on_file(self, parent, child):
        [before] = export_family(get(parent))["children"]
        assert before["photo_on_register"] is False
        add_photo(child, parent)
        [after] = json.loads(json.dumps(export_family(get(parent))))["children"]
        assert after["photo_on_register"] is True
        assert [c["kind"] for c in after["consents"]] == ["id_photo"]
