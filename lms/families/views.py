"""Family pages: children, safeguarding data, consents, co-parents, export and erasure."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from lms.clock import local_today
from lms.database import utcnow
from lms.extensions import limiter
from lms.families import children as children_services
from lms.families import contacts, data_rights, guardians, hooks
from lms.families.forms import (
    ChildForm,
    ConfirmErasureForm,
    HealthForm,
    InviteGuardianForm,
    NewChildForm,
    PersonForm,
    PhotoConsentForm,
)
from lms.families.loaders import (
    load_child,
    load_contact,
    load_guardian,
    load_invitation,
    load_safeguarding_child,
)
from lms.families.models import AccessKind, Child, ConsentKind, ContactKind, Guardianship
from lms.forms import choices, render_form
from lms.querystring import arg_text, paginate
from lms.roles import Role
from lms.security import role_required
from lms.web import record_reading

bp = Blueprint("families", __name__)
bp.add_app_template_global(children_services.child_alerts, "child_alerts")
bp.add_app_template_global(ConsentKind.labels(), "consent_kind_names")
bp.add_app_template_global(AccessKind.labels(), "access_kind_names")


def _child_url(child: Child, anchor: str | None = None) -> str:
    return url_for("families.child_page", child_id=child.id, _anchor=anchor)


# ---------------------------------------------------------------------------------------------
# Children


@bp.get("/children")
@role_required(Role.PARENT)
def children_list():
    return render_template(
        "families/children_list.html",
        children=children_services.children_of(current_user),
        today=local_today(),
    )


def _identity(form: ChildForm) -> dict:
    return {
        "first_name": form.first_name.data,
        "last_name": form.last_name.data,
        "first_name_ar": form.first_name_ar.data,
        "last_name_ar": form.last_name_ar.data,
        "date_of_birth": form.date_of_birth.data,
        "school_grade": form.school_grade.data,
        "may_leave_alone": form.may_leave_alone.data,
    }


def _identity_of(child: Child) -> dict:
    return {
        "first_name": child.first_name,
        "last_name": child.last_name,
        "first_name_ar": child.first_name_ar,
        "last_name_ar": child.last_name_ar,
        "date_of_birth": child.date_of_birth,
        "school_grade": child.school_grade,
        "may_leave_alone": child.may_leave_alone,
    }


@bp.route("/children/new", methods=["GET", "POST"])
@role_required(Role.PARENT)
def child_new():
    form = NewChildForm()
    if request.method == "GET" and not children_services.children_of(current_user):
        # The parent is the most likely first emergency contact.
        form.emergency_name.data = current_user.full_name
        form.emergency_phone.data = current_user.phone
    if form.validate_on_submit():
        child = children_services.add_child(
            current_user,
            **_identity(form),
            emergency_contact=contacts.Person(
                name=form.emergency_name.data,
                relationship=form.emergency_relationship.data,
                phone=form.emergency_phone.data,
            ),
        )
        flash(
            _(
                "%(name)s is added. Now tell us about health, pickup and photos.",
                name=child.first_name,
            ),
            "success",
        )
        return redirect(_child_url(child))
    return render_form("families/child_form.html", form, child=None)


@bp.get("/children/<int:child_id>")
@role_required(Role.PARENT)
def child_page(child_id: int):
    child = load_child(child_id)
    return render_template(
        "families/child_page.html",
        child=child,
        today=local_today(),
        alerts=children_services.child_alerts(child),
        health=child.current_consent(ConsentKind.HEALTH),
        photo=child.current_consent(ConsentKind.PHOTO),
        invitations=guardians.open_invitations(child),
        access_log=children_services.medical_access_history(child),
        invitation_expires_at=guardians.invitation_expires_at,
        sections=[
            section
            for make in hooks.child_page_sections
            if (section := make(child, current_user)) is not None
        ],
    )


@bp.route("/children/<int:child_id>/edit", methods=["GET", "POST"])
@role_required(Role.PARENT)
def child_edit(child_id: int):
    child = load_child(child_id)
    form = ChildForm()
    if request.method == "GET":
        for name, value in _identity_of(child).items():
            getattr(form, name).data = value
    if form.validate_on_submit():
        children_services.update_child(child, actor=current_user, **_identity(form))
        flash(_("Your changes are saved."), "success")
        return redirect(_child_url(child))
    return render_form("families/child_form.html", form, child=child)


# ---------------------------------------------------------------------------------------------
# Health and photo consent


@bp.route("/children/<int:child_id>/health", methods=["GET", "POST"])
@role_required(Role.PARENT)
def child_health(child_id: int):
    child = load_child(child_id)
    form = HealthForm()
    current = child.current_consent(ConsentKind.HEALTH)
    if request.method == "GET":
        form.consent.data = None if current is None else ("yes" if current.granted else "no")
        form.allergies.data = child.allergies
        form.medical_notes.data = child.medical_notes
    if form.validate_on_submit():
        had_data = child.has_health_data
        children_services.save_health(
            child,
            actor=current_user,
            consent=form.consent.data == "yes",
            allergies=form.allergies.data,
            medical_notes=form.medical_notes.data,
        )
        if had_data and not child.has_health_data and form.consent.data == "no":
            flash(_("Consent withdrawn: the health information has been erased."), "success")
        else:
            flash(_("Your changes are saved."), "success")
        return redirect(_child_url(child, "health"))
    return render_form("families/health_form.html", form, child=child, current=current)


@bp.route("/children/<int:child_id>/photo-consent", methods=["GET", "POST"])
@role_required(Role.PARENT)
def photo_consent(child_id: int):
    child = load_child(child_id)
    form = PhotoConsentForm()
    current = child.current_consent(ConsentKind.PHOTO)
    if request.method == "GET" and current is not None:
        form.granted.data = "yes" if current.granted else "no"
    if form.validate_on_submit():
        children_services.set_photo_consent(
            child, actor=current_user, granted=form.granted.data == "yes"
        )
        flash(_("Your decision is recorded."), "success")
        return redirect(_child_url(child, "photos"))
    history = [r for r in child.consent_records if r.kind == ConsentKind.PHOTO]
    return render_form(
        "families/photo_consent_form.html", form, child=child, current=current, history=history
    )


# ---------------------------------------------------------------------------------------------
# The people on file: one implementation; each list keeps its own addresses, and the kind
# comes from the address (/emergency-contacts/... or /pickups/...).

ANCHORS = {ContactKind.EMERGENCY: "emergency", ContactKind.PICKUP: "pickup"}


@role_required(Role.PARENT)
def contact_form(child_id: int, kind: ContactKind, contact_id: int | None = None):
    child = load_child(child_id)
    contact = None if contact_id is None else load_contact(child, kind, contact_id)
    form = PersonForm(one_time=contact is None)
    if request.method == "GET" and contact is not None:
        form.name.data = contact.name
        form.relationship.data = contact.relationship_to_child
        form.phone.data = contact.phone
    if form.validate_on_submit():
        person = contacts.Person(
            name=form.name.data, relationship=form.relationship.data, phone=form.phone.data
        )
        if contact is None:
            contacts.add_contact(child, actor=current_user, kind=kind, person=person)
        else:
            contacts.update_contact(contact, actor=current_user, person=person)
        flash(_("Your changes are saved."), "success")
        return redirect(_child_url(child, ANCHORS[kind]))
    return render_form("families/person_form.html", form, child=child, kind=kind, person=contact)


@role_required(Role.PARENT)
def contact_delete(child_id: int, kind: ContactKind, contact_id: int):
    child = load_child(child_id)
    contact = load_contact(child, kind, contact_id)
    contacts.remove_contact(contact, actor=current_user)
    flash(_("%(name)s is removed.", name=contact.name), "success")
    return redirect(_child_url(child, ANCHORS[kind]))


def _route_people(kind: ContactKind, path: str) -> None:
    people = f"/children/<int:child_id>/{path}"
    form = {"view_func": contact_form, "methods": ["GET", "POST"], "defaults": {"kind": kind}}
    bp.add_url_rule(f"{people}/new", "contact_new", **form)
    bp.add_url_rule(f"{people}/<int:contact_id>/edit", "contact_edit", **form)
    bp.add_url_rule(
        f"{people}/<int:contact_id>/delete",
        "contact_delete",
        view_func=contact_delete,
        methods=["POST"],
        defaults={"kind": kind},
    )


_route_people(ContactKind.EMERGENCY, "emergency-contacts")
_route_people(ContactKind.PICKUP, "pickups")


# ---------------------------------------------------------------------------------------------
# Co-parents


def _inviter_key() -> str:
    return f"invite:{current_user.get_id() or get_remote_address()}"


@bp.route("/children/<int:child_id>/guardians/invite", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["GUARDIAN_INVITE_LIMIT"], key_func=_inviter_key, methods=["POST"]
)
@role_required(Role.PARENT)
def guardian_invite(child_id: int):
    child = load_child(child_id)
    family = children_services.children_of(current_user)
    form = InviteGuardianForm()
    form.children.choices = choices((c.id, c.full_name) for c in family)
    if request.method == "GET":
        form.children.data = [c.id for c in family]
    if form.validate_on_submit():
        chosen = [c for c in family if c.id in form.children.data]
        invitation = guardians.invite_guardian(
            actor=current_user, email=form.email.data, children=chosen
        )
        flash(
            _(
                "Invitation sent to %(email)s. The link works for %(days)d days.",
                email=invitation.email,
                days=current_app.config["INVITATION_MAX_AGE"] // 86400,
            ),
            "success",
        )
        return redirect(_child_url(child, "guardians"))
    return render_form("families/invite_form.html", form, child=child)


@bp.post("/children/<int:child_id>/guardians/<int:user_id>/remove")
@role_required(Role.PARENT)
def guardian_remove(child_id: int, user_id: int):
    child = load_child(child_id)
    guardian = load_guardian(child, user_id)
    guardians.remove_guardian(child, actor=current_user, guardian=guardian)
    if guardian.id == current_user.id:
        flash(
            _("You no longer have access to %(name)s's profile.", name=child.first_name), "success"
        )
        return redirect(url_for("families.children_list"))
    flash(_("%(name)s is no longer a guardian.", name=guardian.full_name), "success")
    return redirect(_child_url(child, "guardians"))


@bp.post("/children/<int:child_id>/invitations/<int:invitation_id>/cancel")
@role_required(Role.PARENT)
def invitation_cancel(child_id: int, invitation_id: int):
    child = load_child(child_id)
    invitation = load_invitation(child, invitation_id)
    guardians.cancel_invitation(invitation, actor=current_user)
    flash(_("The invitation to %(email)s is cancelled.", email=invitation.email), "success")
    return redirect(_child_url(child, "guardians"))


@bp.get("/invitations/<token>")
def invitation(token: str):
    try:
        found = guardians.invitation_from_token(token)
    except guardians.InvalidInvitation as error:
        # Not a refusal of something asked: a dead link, answered on its own page ("Gone").
        return render_template("families/invitation.html", error=error.message), 410
    here = url_for("families.invitation", token=token)
    return render_template(
        "families/invitation.html",
        error=None,
        invitation=found,
        children=guardians.invitation_children(found),
        token=token,
        here=here,
        expires_at=guardians.invitation_expires_at(found),
    )


@bp.route("/invitations/<token>/accept", methods=["GET", "POST"])
@role_required(Role.PARENT)
def invitation_accept(token: str):
    if request.method == "GET":
        # After logging in from a POST, Flask-Login comes back here with a GET.
        return redirect(url_for("families.invitation", token=token))
    # A refusal goes back to the invitation page (its button sends it as ``next``).
    children = guardians.accept_invitation(token, user=current_user)
    flash(
        _(
            "You are now a guardian of %(names)s.",
            names=", ".join(child.first_name for child in children),
        ),
        "success",
    )
    if len(children) == 1:
        return redirect(_child_url(children[0]))
    return redirect(url_for("families.children_list"))


# ---------------------------------------------------------------------------------------------
# Staff: safeguarding card


@bp.get("/children/<int:child_id>/safeguarding")
@role_required(Role.INSTRUCTOR, Role.COORDINATOR)
def safeguarding(child_id: int):
    child = load_safeguarding_child(child_id)
    # Staff reading medical data leave a trace the guardians see (DESIGN.md invariant 7): the
    # one write this GET makes, an audit of the reading.
    record_reading()
    children_services.log_medical_access(child, staff=current_user)
    return render_template(
        "families/safeguarding.html",
        child=child,
        today=local_today(),
        photo=child.current_consent(ConsentKind.PHOTO),
        health=child.current_consent(ConsentKind.HEALTH),
    )


@bp.get("/coordinator/children")
@role_required(Role.COORDINATOR)
def coordinator_children():
    q = arg_text("q", max_length=80)
    query = (
        select(Child)
        .where(Child.erased_at.is_(None))
        .options(selectinload(Child.guardianships).selectinload(Guardianship.user))
        .order_by(Child.last_name, Child.first_name, Child.id)
    )
    if q:
        query = query.where(
            or_(
                func.lower(Child.first_name).contains(q.lower(), autoescape=True),
                func.lower(Child.last_name).contains(q.lower(), autoescape=True),
                Child.first_name_ar.contains(q, autoescape=True),
                Child.last_name_ar.contains(q, autoescape=True),
            )
        )
    page = paginate(query, per_page=50, max_per_page=200)
    return render_template(
        "families/coordinator_children.html", page=page, q=q, today=local_today()
    )


# ---------------------------------------------------------------------------------------------
# Data rights: export and erasure


def _json_download(data: dict, filename: str) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/family/export.json")
@role_required(Role.PARENT)
def family_export_json():
    data = data_rights.export_family(current_user)
    return _json_download(data, f"activelabs-family-{local_today().isoformat()}.json")


@bp.get("/family/export")
@role_required(Role.PARENT)
def family_export():
    children = children_services.children_of(current_user, with_details=True)
    return render_template(
        "families/export.html",
        sections=data_rights.export_sections_for(current_user, children),
        generated_at=utcnow(),
    )


@bp.get("/children/<int:child_id>/export.json")
@role_required(Role.PARENT)
def child_export_json(child_id: int):
    child = load_child(child_id)
    data = data_rights.export_family(current_user, [child])
    return _json_download(data, f"activelabs-child-{child.id}-{local_today().isoformat()}.json")


@bp.route("/children/<int:child_id>/erase", methods=["GET", "POST"])
@role_required(Role.PARENT)
def child_erase(child_id: int):
    child = load_child(child_id)
    form = ConfirmErasureForm()
    if form.validate_on_submit():
        name = child.first_name
        data_rights.erase_child(child, actor=current_user, password=form.password.data)
        flash(_("%(name)s's data has been erased.", name=name), "success")
        return redirect(url_for("families.children_list"))
    preview = data_rights.child_erasure_preview(child, actor=current_user)
    return render_form("families/erase_child.html", form, child=child, preview=preview)


@bp.route("/family/erase", methods=["GET", "POST"])
@role_required(Role.PARENT)
def account_erase():
    form = ConfirmErasureForm()
    if form.validate_on_submit():
        data_rights.erase_account(current_user, password=form.password.data)
        logout_user()
        flash(_("Your account and your family's data have been erased. Goodbye."), "success")
        return redirect(url_for("dashboard.index"))
    preview = data_rights.account_erasure_preview(current_user)
    return render_form("families/erase_account.html", form, preview=preview)
