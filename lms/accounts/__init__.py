"""Accounts: users, roles, login, registration, password reset, language."""

from flask_babel import lazy_gettext as _l
from flask_login import LoginManager


def init_login(login_manager: LoginManager) -> None:
    """Flask-Login: who is logged in, and where anonymous visitors are sent."""
    from lms.accounts.services import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    # "basic": a phone that changes network keeps its session; the session token does the rest.
    login_manager.session_protection = "basic"
