"""Active Labs LMS."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from lms import assets, cli, errors, health, i18n, logs, security, settings, templating, web
from lms import config as default_config
from lms.accounts import init_login
from lms.accounts import views as accounts
from lms.accounts import wiring as accounts_wiring
from lms.attendance import lesson_views, offline_views
from lms.attendance import views as attendance
from lms.attendance import wiring as attendance_wiring
from lms.audit import views as audit
from lms.certificates import credential_views, signature_views
from lms.certificates import views as certificates
from lms.certificates import wiring as certificates_wiring
from lms.courses import views as courses
from lms.dashboard import views as dashboard
from lms.database import configure_sqlite
from lms.enrolment import book_views, card_views, transfer_views
from lms.enrolment import views as enrolment
from lms.enrolment import wiring as enrolment_wiring
from lms.extensions import babel, csrf, db, limiter, login_manager, migrate
from lms.families import data_rights as families_data_rights
from lms.families import photo_views
from lms.families import views as families
from lms.messaging import inbox_views
from lms.messaging import views as messaging
from lms.messaging import wiring as messaging_wiring
from lms.notifications import views as notifications
from lms.notifications import webhooks
from lms.reports import views as reports

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages."""
    # The instance folder (local config, SQLite database, stored files) may live elsewhere:
    # /var/lib/lms in production, a temporary folder in tests.
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("LMS_INSTANCE_PATH")
    app = web.LmsFlask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_object(default_config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("LMS")
    if test_config:
        app.config.from_mapping(test_config)
    settings.resolve(app)

    db.init_app(app)
    with app.app_context():
        configure_sqlite(
            db.engine,
            busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"],
            worker_busy_timeout_ms=app.config["SQLITE_WORKER_BUSY_TIMEOUT_MS"],
        )
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    login_manager.init_app(app)
    init_login(login_manager)

    # The higher domains answer the lower domains' hooks (lms/hooks.py); idempotent.
    accounts_wiring.install()
    families_data_rights.install()  # first: the export opens with the account and children
    enrolment_wiring.install()
    attendance_wiring.install()
    certificates_wiring.install()
    messaging_wiring.install()

    app.register_blueprint(dashboard.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(courses.bp)
    app.register_blueprint(families.bp)
    app.register_blueprint(photo_views.bp)
    app.register_blueprint(certificates.bp)
    app.register_blueprint(credential_views.bp)
    app.register_blueprint(signature_views.bp)
    app.register_blueprint(attendance.bp)
    app.register_blueprint(offline_views.bp)
    app.register_blueprint(lesson_views.bp)
    app.register_blueprint(enrolment.bp)
    app.register_blueprint(card_views.bp)
    app.register_blueprint(transfer_views.bp)
    app.register_blueprint(book_views.bp)
    app.register_blueprint(messaging.bp)
    app.register_blueprint(inbox_views.bp)
    app.register_blueprint(reports.bp)

    logs.init_logging(app)
    security.init_security(app)
    assets.init_assets(app)
    i18n.init_i18n(app)
    templating.init_templating(app)
    errors.init_error_pages(app)
    web.init_request_end(app)
    cli.init_cli(app)
    return app
