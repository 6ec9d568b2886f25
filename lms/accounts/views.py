"""Account pages: register, log in and out, passwords, profile, language, staff accounts."""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from lms.accounts import confirmation, contact, services
from lms.accounts.forms import (
    ChangePasswordForm,
    ConfirmEmailForm,
    ContactForm,
    EmailChangeForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
    StaffEditForm,
    StaffForm,
)
from lms.accounts.loaders import load_password_link_user, load_staff
from lms.accounts.models import User
from lms.accounts.throttle import LoginThrottle
from lms.extensions import limiter
from lms.forms import render_form
from lms.i18n import LANGUAGE_COOKIE, current_language
from lms.querystring import arg_choice, paginate
from lms.roles import STAFF_ROLES, Role
from lms.security import role_required, safe_next_url
from lms.web import back_url

bp = Blueprint("accounts", __name__)


def _account_key() -> str:
    """Rate-limit key for one account: the e-mail typed in the form, hashed."""
    email = services.normalize_email(request.form.get("email", ""))
    return "account:" + hashlib.sha256(email.encode()).hexdigest()


def _limit(setting: str):
    return lambda: current_app.config[setting]


# ---------------------------------------------------------------------------------------------
# Registration and login


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_limit("REGISTER_LIMIT_PER_IP"), methods=["POST"])
@limiter.limit(_limit("REGISTER_LIMIT_PER_EMAIL"), key_func=_account_key, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")) or url_for("dashboard.home"))
    form = RegistrationForm()
    if request.method == "GET":
        form.language.data = current_language()
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = services.register_parent(
            full_name=form.full_name.data,
            email=form.email.data,
            phone=form.phone.data,
            password=form.password.data,
            locale=form.language.data,
            privacy_notice_version=current_app.config["PRIVACY_NOTICE_VERSION"],
        )
        if user is not None:
            confirmation.send_confirmation_link(user)
        # The same answer whether the address was free or already had an account (whose
        # owner was e-mailed instead), so the page tells no one who has an account. For the
        # same reason nobody is logged in here: the new parent logs in with the password just
        # chosen, on the page this leads to.
        flash(
            _(
                "Check your inbox: we sent a message to %(email)s. Open the link in it to "
                "confirm the address, then log in with your password.",
                email=services.normalize_email(form.email.data),
            ),
            "success",
        )
        return redirect(url_for("accounts.login", next=safe_next_url(form.next.data)))
    return render_form("accounts/register.html", form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_LIMIT_PER_IP"), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")) or url_for("dashboard.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        throttle = LoginThrottle(form.email.data)
        wait = throttle.wait_seconds()
        if wait:
            form.form_errors.append(
                _(
                    "Too many wrong passwords for this account from here. Please wait "
                    "%(seconds)d seconds and try again, or reset your password.",
                    seconds=wait,
                )
            )
            return render_form("accounts/login.html", form)[0], 429, {"Retry-After": str(wait)}
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            throttle.failed()
            # Same words whether the address exists or not.
            form.form_errors.append(_("Incorrect e-mail address or password."))
        else:
            throttle.succeeded()
            login_user(user, remember=form.remember.data)
            return redirect(safe_next_url(form.next.data) or url_for("dashboard.home"))
    return render_form("accounts/login.html", form)


@bp.post("/logout")
@login_required
def logout():
    services.end_all_sessions(current_user)
    logout_user()
    flash(_("You are logged out on every device."), "success")
    response = redirect(url_for("accounts.login"))
    # The offline roll call's rosters (IndexedDB, the service worker's cache) leave the phone.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


# ---------------------------------------------------------------------------------------------
# Passwords


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("RESET_LIMIT_PER_IP"), methods=["POST"])
@limiter.limit(_limit("RESET_LIMIT_PER_ACCOUNT"), key_func=_account_key, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        # Never say whether the address has an account.
        flash(
            _(
                "If an account uses this address, we have sent it a link to choose a new "
                "password. The link works once, for one hour."
            ),
            "success",
        )
        return redirect(url_for("accounts.login"))
    return render_form("accounts/forgot_password.html", form)


def _password_link_page(token: str, purpose: str):
    user = load_password_link_user(token, purpose)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password_with_token(token, form.password.data, purpose)
        logout_user()
        flash(_("Your password is set. Log in with it now."), "success")
        return redirect(url_for("accounts.login"))
    return render_form("accounts/reset_password.html", form, user=user, purpose=purpose)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("RESET_LIMIT_PER_IP"), methods=["POST"])
def reset_password(token: str):
    return _password_link_page(token, services.RESET)


@bp.route("/welcome/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("RESET_LIMIT_PER_IP"), methods=["POST"])
def account_setup(token: str):
    return _password_link_page(token, services.SETUP)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        services.change_password(
            current_user,
            current_password=form.current_password.data,
            new_password=form.password.data,
        )
        # Every other browser is logged out; this one stays in with the new token.
        login_user(current_user._get_current_object())
        flash(_("Your password is changed. Other devices have been logged out."), "success")
        return redirect(url_for("accounts.profile"))
    return render_form("accounts/change_password.html", form)


# ---------------------------------------------------------------------------------------------
# Profile and language


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm()
    if request.method == "GET":
        form.full_name.data = current_user.full_name
        form.phone.data = current_user.phone
        form.language.data = current_user.locale
    if form.validate_on_submit():
        services.update_profile(
            current_user,
            full_name=form.full_name.data,
            phone=form.phone.data or None,
            locale=form.language.data,
        )
        flash(_("Your details are saved."), "success")
        response = redirect(url_for("accounts.profile"))
        _remember_language(response, form.language.data)
        return response
    return render_form("accounts/profile.html", form)


@bp.route("/account/contact", methods=["GET", "POST"])
@role_required(Role.PARENT)
def contact_choices():
    form = ContactForm()
    in_force = contact.consents_in_force(current_user)
    if request.method == "GET":
        phone = next((consent.phone for consent in in_force.values()), None)
        form.phone.data = phone or current_user.phone
        for kind, channels in contact.chosen_channels(current_user).items():
            for channel in channels:
                getattr(form, f"{kind}_{channel}").data = True
    if form.validate_on_submit():
        contact.save_contact_choices(
            current_user, phone=form.phone.data or None, chosen=form.chosen(), actor=current_user
        )
        flash(_("Your choices are saved."), "success")
        return redirect(url_for("accounts.contact_choices"))
    return render_form(
        "accounts/contact.html",
        form,
        kinds=list(contact.MessageKind),
        in_force=in_force,
        history=contact.consent_history(current_user),
        consent_text=contact.consent_text,
    )


# ---------------------------------------------------------------------------------------------
# The e-mail address: confirmation links, corrections and changes


@bp.get("/account/confirm/<token>")
def confirm_email(token: str):
    user, address = confirmation.read_confirmation_token(token)
    return render_template(
        "accounts/confirm_email.html", form=ConfirmEmailForm(), user=user, address=address
    )


@bp.post("/account/confirm/<token>")
@limiter.limit(_limit("RESET_LIMIT_PER_IP"))
def confirm_email_post(token: str):
    form = ConfirmEmailForm()
    if not form.validate_on_submit():
        flash(_("This form has expired. Open the link again."), "error")
        return redirect(url_for("accounts.confirm_email", token=token), 303)
    user = confirmation.confirm_email(token)
    flash(_("Thank you: %(email)s is confirmed.", email=user.email), "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("dashboard.home"))
    return redirect(url_for("accounts.login"))


@bp.post("/account/email/resend")
@login_required
@limiter.limit(_limit("CONFIRM_RESEND_LIMIT"), key_func=lambda: f"resend:{current_user.id}")
def resend_confirmation():
    address = confirmation.send_confirmation_link(current_user)
    if address is None:
        flash(_("Your address is already confirmed."), "info")
    else:
        flash(_("We sent a new link to %(email)s.", email=address), "success")
    return redirect(back_url(url_for("dashboard.home")), 303)


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def change_email():
    form = EmailChangeForm()
    if request.method == "GET":
        form.email.data = current_user.pending_email or current_user.email
    if form.validate_on_submit():
        was_confirmed = current_user.email_confirmed
        address = confirmation.change_email(
            current_user, new_email=form.email.data, password=form.password.data
        )
        if was_confirmed:
            flash(
                _(
                    "We sent a link to %(email)s. Your address changes when you open it; "
                    "until then we keep writing to the current one.",
                    email=address,
                ),
                "success",
            )
        else:
            flash(_("Address corrected. We sent a link to %(email)s.", email=address), "success")
        return redirect(url_for("accounts.profile"))
    return render_form("accounts/change_email.html", form)


def _remember_language(response, language: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )


@bp.post("/language")
def set_language():
    form = LanguageForm()
    target = safe_next_url(form.next.data) or url_for("dashboard.home")
    if not form.validate():
        flash(_("Unknown language."), "error")
        return redirect(target)
    if current_user.is_authenticated:
        services.set_language(current_user, form.language.data)
    response = redirect(target)
    _remember_language(response, form.language.data)
    return response


# ---------------------------------------------------------------------------------------------
# Staff accounts (coordinators)


@bp.get("/coordinator/staff")
@role_required(Role.COORDINATOR)
def staff_list():
    query = select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.full_name)
    role = arg_choice("role", STAFF_ROLES)
    if role:
        query = query.where(User.role == role)
    page = paginate(query, per_page=25, max_per_page=100)
    return render_template("accounts/staff_list.html", page=page, role=role)


@bp.route("/coordinator/staff/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def staff_new():
    form = StaffForm()
    if request.method == "GET":
        form.language.data = "fr"
    if form.validate_on_submit():
        user = services.create_staff(
            actor=current_user,
            full_name=form.full_name.data,
            email=form.email.data,
            role=form.role.data,
            phone=form.phone.data or None,
            locale=form.language.data,
        )
        flash(
            _(
                "%(name)s's account is created; they have been e-mailed a link to set "
                "their password.",
                name=user.full_name,
            ),
            "success",
        )
        return redirect(url_for("accounts.staff_list"))
    return render_form("accounts/staff_new.html", form)


@bp.route("/coordinator/staff/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def staff_edit(user_id: int):
    staff = load_staff(user_id)
    form = StaffEditForm()
    if request.method == "GET":
        form.full_name.data, form.phone.data = staff.full_name, staff.phone
        form.role.data, form.language.data = staff.role, staff.locale
    if form.validate_on_submit():
        services.update_staff(
            staff,
            actor=current_user,
            full_name=form.full_name.data,
            role=form.role.data,
            phone=form.phone.data or None,
            locale=form.language.data,
        )
        flash(_("%(name)s's account is saved.", name=staff.full_name), "success")
        return redirect(url_for("accounts.staff_list"))
    return render_form("accounts/staff_edit.html", form, staff=staff)


@bp.post("/coordinator/staff/<int:user_id>/deactivate")
@role_required(Role.COORDINATOR)
def staff_deactivate(user_id: int):
    staff = load_staff(user_id)
    services.set_staff_active(staff, actor=current_user, active=False)
    flash(_("%(name)s can no longer log in, on any device.", name=staff.full_name), "success")
    return redirect(url_for("accounts.staff_edit", user_id=staff.id))


@bp.post("/coordinator/staff/<int:user_id>/reactivate")
@role_required(Role.COORDINATOR)
def staff_reactivate(user_id: int):
    staff = load_staff(user_id)
    services.set_staff_active(staff, actor=current_user, active=True)
    flash(_("%(name)s can log in again.", name=staff.full_name), "success")
    return redirect(url_for("accounts.staff_edit", user_id=staff.id))


@bp.post("/coordinator/staff/<int:user_id>/password-link")
@role_required(Role.COORDINATOR)
def staff_password_link(user_id: int):
    staff = load_staff(user_id)
    services.send_staff_password_link(staff, actor=current_user)
    flash(
        _("A link to choose a password was e-mailed to %(name)s.", name=staff.full_name), "success"
    )
    return redirect(url_for("accounts.staff_edit", user_id=staff.id))
