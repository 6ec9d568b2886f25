"""A child's photo on the register: the guardians add, replace and remove it; the staff who
teach the child's groups see it on the roll."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.families import children as children_services
from lms.families import photos
from lms.families.forms import PhotoForm
from lms.families.loaders import load_child, load_photo
from lms.families.models import ConsentKind
from lms.forms import render_form
from lms.roles import Role
from lms.security import role_required
from lms.web import accepts_upload

bp = Blueprint("photos", __name__)
bp.add_app_template_filter(photos.initials, "initials")

# The request may be larger than the photo allowed, so that a photo a little too large is
# refused on the form, with the reason, instead of by a bare "too large" page.
UPLOAD_LIMIT = 3 * photos.MAX_BYTES


@bp.route("/children/<int:child_id>/photo", methods=["GET", "POST"])
@accepts_upload(UPLOAD_LIMIT)
@role_required(Role.PARENT)
def edit(child_id: int):
    child = load_child(child_id)
    form = PhotoForm()
    if form.validate_on_submit():
        replacing = child.has_photo
        children_services.set_photo(
            child,
            form.image.data.read(photos.MAX_BYTES + 1),
            actor=current_user,
            agreed=form.agreed.data,
        )
        flash(_("The photo is replaced.") if replacing else _("The photo is saved."), "success")
        return redirect(url_for("families.child_page", child_id=child.id, _anchor="register"))
    return render_form(
        "families/photo_form.html",
        form,
        child=child,
        consent=child.current_consent(ConsentKind.ID_PHOTO),
        max_mb=photos.MAX_BYTES // (1024 * 1024),
    )


@bp.post("/children/<int:child_id>/photo/remove")
@role_required(Role.PARENT)
def remove(child_id: int):
    child = load_child(child_id)
    children_services.remove_photo(child, actor=current_user)
    flash(_("The photo is removed and deleted."), "success")
    return redirect(url_for("families.child_page", child_id=child.id, _anchor="register"))


@bp.get("/children/<int:child_id>/photo.jpg")
@login_required
def image(child_id: int):
    return Response(
        load_photo(child_id).read_bytes(),
        mimetype=photos.MEDIA_TYPE,
        # A child's face stays out of every cache, shared or not.
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
