"""The User model: one login, one role."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.database import UTCDateTime, utcnow
from lms.extensions import db
from lms.roles import STAFF_ROLES, Role


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('parent', 'instructor', 'coordinator')",
            name="role_known",
        ),
        CheckConstraint("locale IN ('fr', 'ar', 'en')", name="locale_known"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint makes addresses case-insensitively unique.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164, e.g. +212612345678
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Part of the login cookie; rotating it logs the user out of every browser.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(default=True)
    privacy_notice_version: Mapped[str | None] = mapped_column(String(20))
    privacy_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the owner opened the confirmation link sent to ``email`` (None: not confirmed yet).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A new address asked for, waiting for its confirmation link to be opened.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    # The file name (SHA-256 and kind) of the image this staff member signs certificates with
    # (lms/certificates/signatures.py); None: certificates show the typed name.
    signature_image: Mapped[str | None] = mapped_column(String(80))
    # The secret part of the user's private calendar feed URL (courses domain); None: no feed.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    # Flask-Login reads these.
    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_parent(self) -> bool:
        return self.role == Role.PARENT

    @property
    def is_instructor(self) -> bool:
        return self.role == Role.INSTRUCTOR

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None


class ContactConsent(db.Model):
    """The ledger: a parent's yes to WhatsApp or SMS on a number, and its withdrawal.

    Rows are never changed but to record a withdrawal: a new yes is a new row, so every message
    sent to a phone points at the consent in force when it was written.
    """

    __tablename__ = "contact_consents"
    __table_args__ = (
        CheckConstraint("channel IN ('whatsapp', 'sms')", name="channel_known"),
        CheckConstraint("source IN ('page', 'keyword', 'staff')", name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(10))  # the page, or a keyword sent back
    notice_version: Mapped[str] = mapped_column(String(20))
    text_shown: Mapped[str] = mapped_column(Text)  # exactly what the parent agreed to
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_source: Mapped[str | None] = mapped_column(String(10))
    withdrawn_text: Mapped[str | None] = mapped_column(String(500))  # the keyword, or the page

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None

    def __repr__(self) -> str:
        state = "in force" if self.in_force else "withdrawn"
        return f"<ContactConsent {self.id} {self.channel} {state}>"


class ContactPreference(db.Model):
    """A channel a parent chose for one kind of message (urgent or routine)."""

    __tablename__ = "contact_preferences"
    __table_args__ = (
        CheckConstraint("kind IN ('urgent', 'routine')", name="kind_known"),
        CheckConstraint("channel IN ('email', 'whatsapp', 'sms')", name="channel_known"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
