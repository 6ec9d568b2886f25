"""The coordinator's page of signature images: who signs certificates with which image."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.models import User
from lms.certificates import signatures
from lms.certificates.forms import SignatureForm
from lms.extensions import db
from lms.forms import flash_form_errors
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("signatures", __name__, url_prefix="/coordinator/signatures")


def _staff_member(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff:
        abort(404)
    return user


@bp.get("/")
@role_required(Role.COORDINATOR)
def page():
    staff = db.session.scalars(
        select(User)
        .where(User.role.in_((Role.COORDINATOR, Role.INSTRUCTOR)), User.active.is_(True))
        .order_by(User.role, User.full_name)
    ).all()
    return render_template(
        "certificates/signatures.html",
        staff=staff,
        form=SignatureForm(),
        max_kb=signatures.MAX_BYTES // 1024,
    )


@bp.post("/<int:user_id>")
@role_required(Role.COORDINATOR)
def upload(user_id: int):
    user = _staff_member(user_id)
    form = SignatureForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for(".page"), 303)
    data = form.image.data.read(signatures.MAX_BYTES + 1)
    signatures.set_signature(user, data, actor=current_user)
    flash(_("Signature saved for %(name)s.", name=user.full_name), "success")
    return redirect(url_for(".page"), 303)


@bp.post("/<int:user_id>/remove")
@role_required(Role.COORDINATOR)
def remove(user_id: int):
    user = _staff_member(user_id)
    signatures.remove_signature(user, actor=current_user)
    flash(_("Certificates issued from now on show %(name)s's typed name.", name=user.full_name))
    return redirect(url_for(".page"), 303)


@bp.get("/files/<name>")
@role_required(Role.COORDINATOR)
def image(name: str):
    data = signatures.read(name)
    if data is None:
        abort(404)
    kind = name.rsplit(".", 1)[1]
    return Response(
        data,
        mimetype=signatures.MEDIA_TYPES[kind],
        # An SVG opened on its own runs nothing and loads nothing.
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )
