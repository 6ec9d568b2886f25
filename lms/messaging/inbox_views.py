"""The staff's inbox: the families' replies, a thread per family, and answering from it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.families.children import families_of
from lms.forms import render_form
from lms.messaging import inbox
from lms.messaging.forms import ReplyForm
from lms.messaging.loaders import load_family_thread
from lms.notifications.models import Channel
from lms.querystring import paginate
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

STAFF = (Role.INSTRUCTOR, Role.COORDINATOR)


@bp.app_context_processor
def unread_in_inbox() -> dict:
    # Called by the staff's menu only: one count per page a member of staff opens.
    return {"inbox_unread": lambda: inbox.unread_count(current_user)}


@bp.get("/")
@role_required(*STAFF)
def inbox_list():
    page = paginate(inbox.visible_replies(current_user), per_page=30, max_per_page=100)
    families = families_of(m.sender_user_id for m in page.items if m.sender_user_id)
    return render_template("messaging/inbox.html", page=page, families=families)


@bp.route("/families/<int:user_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def family_thread(user_id: int):
    family = load_family_thread(user_id)
    latest = inbox.latest_message(family)
    form = ReplyForm()
    if latest is not None and form.validate_on_submit():
        answer = inbox.reply(latest, actor=current_user, text=form.body.data)
        flash(
            _(
                "Your reply is queued: it leaves by %(channel)s in a moment.",
                channel=Channel(latest.channel).label,
            )
            if answer.free_form
            else _("Your reply is queued, inside the lab's reply template."),
            "success",
        )
        return redirect(url_for("inbox.family_thread", user_id=family.id))
    return render_form(
        "messaging/inbox_thread.html",
        form,
        family=families_of([family.id])[family.id],
        items=inbox.thread(family),
        latest=latest,
        free_form=latest is not None and inbox.window_open(latest),
    )


@bp.post("/families/<int:user_id>/read")
@role_required(*STAFF)
def mark_read(user_id: int):
    family = load_family_thread(user_id)
    inbox.mark_read(family, actor=current_user)
    return redirect(url_for("inbox.family_thread", user_id=family.id), 303)
