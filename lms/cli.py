"""``flask lms ...``: administration commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from lms.accounts import services as accounts
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications import services as notifications
from lms.notifications.delivery import deliver_due
from lms.phones import normalize_phone
from lms.roles import Role

lms_cli = AppGroup("lms", help="Active Labs LMS administration.")


def _fail(message) -> None:
    db.session.rollback()
    raise click.ClickException(str(message))


@lms_cli.command("create-user")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    required=True,
    help="parent, instructor or coordinator.",
)
@click.option("--email", required=True, help="Login e-mail address.")
@click.option("--name", "full_name", required=True, help="Full name as shown to others.")
@click.option("--phone", default=None, help="Phone number (Moroccan by default).")
@click.option("--language", type=click.Choice(["fr", "ar", "en"]), default="fr", show_default=True)
@click.option(
    "--password/--send-link",
    "ask_password",
    default=False,
    help="Type a password now, or (default) e-mail a link to set it.",
)
def create_user_command(role, email, full_name, phone, language, ask_password):
    """Create an account (staff accounts cannot be opened from the website)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="--email") from None
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValueError:
            raise click.BadParameter("not a valid phone number", param_hint="--phone") from None
    password = None
    if ask_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            full_name=full_name,
            email=email,
            role=role,
            phone=phone,
            locale=language,
            password=password,
        )
    except DomainError as error:
        _fail(error.message)
    db.session.commit()
    how = "with the password you typed" if password else "a set-your-password link was e-mailed"
    click.echo(f"Created {role} {user.email} (id {user.id}); {how}.")


@lms_cli.command("send-mail")
@click.option("--limit", default=100, show_default=True, help="At most this many messages.")
def send_mail_command(limit):
    """Deliver due e-mails from the outbox (run it from cron every minute)."""
    report = deliver_due(limit=limit)
    click.echo(f"Outbox: {report}; still waiting: {notifications.outbox_backlog()}.")
    db.session.commit()


@lms_cli.command("send-test-message")
@click.option(
    "--channel", type=click.Choice(["whatsapp", "sms", "email"]), required=True, help="Transport."
)
@click.option("--to", "to", required=True, help="A phone number, or an e-mail address.")
@click.option("--language", type=click.Choice(["fr", "ar", "en"]), default="fr", show_default=True)
def send_test_message_command(channel, to, language):
    """Send one test message through the configured transport and print the provider's answer."""
    from lms.notifications.models import OutboxMessage
    from lms.notifications.short import short_message
    from lms.notifications.transports import Refused, channel_is_live, transport_for
    from lms.phones import is_mobile, normalize_phone

    body, _ = short_message("test_message").render(language, {})
    if channel == "email":
        recipient = to.strip().lower()
    else:
        try:
            recipient = normalize_phone(to)
        except ValueError:
            _fail(f"{to!r} is not a valid phone number.")
        if not is_mobile(recipient):
            _fail(f"{recipient} is a landline: it cannot receive WhatsApp or SMS.")
    prefix = current_app.config["WHATSAPP_TEMPLATE_PREFIX"]
    # Not queued: a test goes straight through the transport, and leaves no row behind.
    message = OutboxMessage(
        id=0,
        channel=channel,
        recipient=recipient,
        template="test_message",
        language=language,
        subject=body if channel == "email" else "",
        body=body,
        provider_template=f"{prefix}test_message" if channel == "whatsapp" else None,
        parameters=[],
        attachments=[],
    )
    live = "live" if channel_is_live(channel) else "development log"
    try:
        sent = transport_for(channel).send(message)
    except Refused as error:
        _fail(f"{channel} ({live}) refused the message: {error}")
    except Exception as error:
        _fail(f"{channel} ({live}) failed: {type(error).__name__}: {error}")
    click.echo(f"{channel} ({live}) to {recipient}: {sent.answer}")
    if sent.provider_message_id:
        click.echo(f"provider message id: {sent.provider_message_id}")


@lms_cli.command("worker")
@click.option("--once", is_flag=True, help="Run every job once, then stop.")
def worker_command(once):
    """Deliver the outbox and run the periodic jobs on a schedule, until stopped (Ctrl+C)."""
    from lms import worker

    app = current_app._get_current_object()
    if once:
        for line in worker.run_due(app, worker.default_jobs(app), now=float("inf")):
            click.echo(line)
        click.echo("Worker: every job ran once.")
        return
    worker.run_forever(app)


@lms_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if any account exists.")
def seed_demo_command(if_empty):
    """Load realistic demo data (Tangier families, staff, courses) and print the logins."""
    from lms.demo import DEMO_PASSWORD, demo_logins, seed_demo

    if current_app.config["ENV"] == "production":
        _fail("seed-demo refuses to run with LMS_ENV=production.")
    created = seed_demo(if_empty=if_empty)
    db.session.commit()
    if created is None:
        click.echo("Demo data already present.")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, email in demo_logins():
        click.echo(f"  {role:<12} {email}")


@lms_cli.command("backup")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the archives (default: instance/backups).",
)
@click.option(
    "--keep",
    default=14,
    show_default=True,
    type=click.IntRange(min=1),
    help="Keep the newest N archives, delete older ones.",
)
def backup_command(dest, keep):
    """Back up the database (online, consistent) and the stored files into a dated archive."""
    from lms.backup import BackupError, create_backup

    try:
        result = create_backup(dest, keep=keep)
    except BackupError as error:
        _fail(error)
    click.echo(f"Backup written: {result.path} ({result.size // 1024} KiB).")
    for old in result.removed:
        click.echo(f"Removed old backup: {old.name}")


@lms_cli.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(archive):
    """Restore a backup archive into this instance, whose database must be empty."""
    from lms.backup import BackupError, restore_backup

    try:
        manifest = restore_backup(archive)
    except BackupError as error:
        _fail(error)
    click.echo(
        f"Restored the {manifest['database']} backup of {manifest['created_at']} "
        f"({len(manifest['files'])} files, schema revision {manifest['revision']}). "
        "Run `flask db upgrade` if this version of the app is newer."
    )


@lms_cli.command("purge")
def purge_command():
    """Apply the retention rules: old safeguarding data, inactive accounts, old incident
    records (run it daily)."""
    from lms.families.data_rights import purge

    report = purge()
    db.session.commit()

    def ids(values) -> str:
        return ", ".join(str(value) for value in values)

    if report.did_nothing:
        click.echo("Nothing to purge.")
        return
    if report.safeguarding_erased:
        click.echo(
            f"Erased medical notes, emergency contacts and pickup lists of "
            f"{len(report.safeguarding_erased)} child(ren): {ids(report.safeguarding_erased)}."
        )
    if report.notices_withdrawn:
        click.echo(
            f"Withdrew {len(report.notices_withdrawn)} closure notice(s) (the parent logged in "
            f"again): accounts {ids(report.notices_withdrawn)}."
        )
    if report.notices_sent:
        click.echo(
            f"E-mailed a closure notice to {len(report.notices_sent)} inactive account(s): "
            f"{ids(report.notices_sent)}."
        )
    if report.accounts_closed:
        click.echo(
            f"Closed and erased {len(report.accounts_closed)} inactive account(s) after notice: "
            f"{ids(report.accounts_closed)}."
        )
    for what, count in report.deleted.items():
        if count:
            click.echo(f"Deleted {count} {what} past their retention period.")
    for user_id, reason in report.accounts_refused:
        click.echo(f"Kept account {user_id}: {reason}", err=True)


@lms_cli.command("run-jobs")
def run_jobs_command():
    """Periodic jobs (run it from cron every few minutes; running it twice does no harm):
    seat offers past their deadline go to the next child waiting."""
    from lms.enrolment.offers import expire_offers
    from lms.enrolment.seats import check_consistency

    lapsed = expire_offers()
    db.session.commit()
    if lapsed:
        click.echo(
            f"Seat offers expired: {len(lapsed)} (enrolments "
            f"{', '.join(str(e.id) for e in lapsed)}); each seat went to the next child "
            "waiting, if any."
        )
    else:
        click.echo("Seat offers expired: none.")
    problems = check_consistency()
    db.session.rollback()
    if problems:
        for problem in problems:
            click.echo(f"Seat count problem: {problem}", err=True)
        raise click.exceptions.Exit(1)
    click.echo("Seat counts: consistent.")


keys_cli = AppGroup("keys", help="The lab's Ed25519 keys that sign Open Badges credentials.")
lms_cli.add_command(keys_cli)
KEYS_WARNING = (
    "Private keys live in {folder} (mode 0600) and are left out of `flask lms backup`:"
    " keep a copy of that folder somewhere safe."
)


@keys_cli.command("create")
def keys_create_command():
    """Create the first signing key (does nothing if a key already signs)."""
    from lms.certificates import keys

    try:
        key = keys.active_key(current_app.instance_path)
        click.echo(f"A key already signs: {key.kid}. Use `flask lms keys rotate` for a new one.")
        return
    except keys.SigningKeyError:
        key = keys.create_key(current_app.instance_path)
    click.echo(f"Signing key created: {key.kid}.")
    click.echo(KEYS_WARNING.format(folder=Path(current_app.instance_path) / keys.FOLDER))


@keys_cli.command("rotate")
def keys_rotate_command():
    """A new key signs from now on; the previous one stays published so its credentials verify."""
    from lms.certificates import keys

    key = keys.create_key(current_app.instance_path)
    click.echo(f"Signing key now: {key.kid}; the previous keys stay published.")
    click.echo(KEYS_WARNING.format(folder=Path(current_app.instance_path) / keys.FOLDER))


@keys_cli.command("retire")
@click.argument("kid")
def keys_retire_command(kid):
    """Withdraw a key (a leaked one): what it signed no longer verifies."""
    from lms.certificates import keys

    try:
        keys.retire_key(current_app.instance_path, kid)
    except keys.SigningKeyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Key {kid} retired: no longer published.")


@keys_cli.command("list")
def keys_list_command():
    """Every key with its state: active (signs), published, retired."""
    from lms.certificates import keys

    found = keys.all_keys(current_app.instance_path)
    if not found:
        click.echo("No key yet: run `flask lms keys create`.")
    for key in found:
        click.echo(f"{key.kid}  {key.state:<9}  created {key.created_at:%Y-%m-%d %H:%M} UTC")


def init_cli(app: Flask) -> None:
    app.cli.add_command(lms_cli)
