"""Co-parents: guardians invite others by e-mail to share their children, and leave."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from lms.accounts.models import User
from lms.accounts.services import find_user_by_email, normalize_email
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import (
    Child,
    GuardianInvitation,
    Guardianship,
    guardian_invitation_children,
)
from lms.families.permissions import can_manage_child, is_guardian, require_guardian
from lms.notifications.services import queue_email, queue_email_to_user


class InvalidInvitation(DomainError):
    pass


def lock_child(child: Child) -> None:
    """Serialise changes to one child's guardians and people on file (a no-op on SQLite, whose
    write transactions are already serialised by BEGIN IMMEDIATE)."""
    db.session.execute(select(Child.id).where(Child.id == child.id).with_for_update())


def _invitation_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="lms-guardian-invitation")


def make_invitation_token(invitation: GuardianInvitation) -> str:
    """The signed token in an invitation link (it expires after INVITATION_MAX_AGE)."""
    return _invitation_serializer().dumps({"i": invitation.id, "e": invitation.email})


def invitation_expires_at(invitation: GuardianInvitation) -> datetime:
    """The instant an invitation's link stops working."""
    return invitation.created_at + timedelta(seconds=current_app.config["INVITATION_MAX_AGE"])


def invite_guardian(*, actor: User, email: str, children: Sequence[Child]) -> GuardianInvitation:
    """Invite someone by e-mail to become a guardian of some of the actor's children."""
    email = normalize_email(email)
    if not children:
        raise DomainError(_l("Choose at least one child."), field="children")
    for child in children:
        require_guardian(actor, child)
    if email == actor.email:
        raise DomainError(
            _l("This is your own address: invite the other parent with theirs."), field="email"
        )
    invitee = find_user_by_email(email)
    if invitee is not None and not invitee.is_parent:
        raise DomainError(
            _l("This address belongs to a staff account; guardians need a parent account."),
            field="email",
        )
    if invitee is not None and all(is_guardian(invitee, child) for child in children):
        raise DomainError(_l("This person is already a guardian of these children."), field="email")
    invitation = GuardianInvitation(
        inviter=actor, email=email, children=list(children), created_at=utcnow()
    )
    db.session.add(invitation)
    db.session.flush()
    queue_email(
        to=email,
        template="guardian_invitation",
        language=invitee.locale if invitee is not None else actor.locale,
        user_id=invitee.id if invitee is not None else None,
        inviter=actor,
        invitee_email=email,
        children=list(children),
        token=make_invitation_token(invitation),
        days=current_app.config["INVITATION_MAX_AGE"] // 86400,
    )
    return invitation


def invitation_from_token(token: str) -> GuardianInvitation:
    """The open invitation a link carries; InvalidInvitation if expired, used or forged."""
    try:
        data = _invitation_serializer().loads(
            token, max_age=current_app.config["INVITATION_MAX_AGE"]
        )
    except SignatureExpired:
        raise InvalidInvitation(
            _l("This invitation has expired. Ask the other parent to send a new one.")
        ) from None
    except BadSignature:
        raise InvalidInvitation(_l("This invitation link is not valid.")) from None
    invitation = (
        db.session.get(GuardianInvitation, data.get("i")) if isinstance(data, dict) else None
    )
    if invitation is None or invitation.email != data.get("e"):
        raise InvalidInvitation(_l("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise InvalidInvitation(_l("This invitation has already been accepted."))
    if invitation.cancelled_at is not None:
        raise InvalidInvitation(_l("This invitation was cancelled."))
    return invitation


def invitation_children(invitation: GuardianInvitation) -> list[Child]:
    """The children an invitation still gives access to: not erased, still the inviter's."""
    return [
        child
        for child in invitation.children
        if not child.is_erased and is_guardian(invitation.inviter, child)
    ]


def accept_invitation(token: str, *, user: User) -> list[Child]:
    """The invitee becomes a guardian of the invitation's children; the link dies."""
    invitation = invitation_from_token(token)
    if not user.is_parent:
        raise DomainError(_l("Only a parent account can become a child's guardian."))
    if user.id == invitation.inviter_id:
        raise DomainError(_l("You sent this invitation; the other parent has to accept it."))
    if user.email != invitation.email:
        raise DomainError(
            _l(
                "This invitation was sent to %(email)s. Log in with that address to accept it.",
                email=invitation.email,
            )
        )
    children = invitation_children(invitation)
    if not children:
        raise InvalidInvitation(_l("This invitation no longer gives access to any child."))
    # Claim the invitation atomically: a double click or two tabs accept it once.
    claimed = db.session.execute(
        update(GuardianInvitation)
        .where(
            GuardianInvitation.id == invitation.id,
            GuardianInvitation.accepted_at.is_(None),
            GuardianInvitation.cancelled_at.is_(None),
        )
        .values(accepted_at=utcnow(), accepted_by_id=user.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if claimed != 1:
        raise InvalidInvitation(_l("This invitation has already been accepted."))
    for child in children:
        if not is_guardian(user, child):
            child.guardianships.append(Guardianship(user=user))
    db.session.flush()
    queue_email_to_user(invitation.inviter, "guardian_added", guardian=user, children=children)
    return children


def cancel_invitation(invitation: GuardianInvitation, *, actor: User) -> None:
    """A guardian of the invited children withdraws an invitation that is still open."""
    if not any(can_manage_child(actor, child) for child in invitation.children):
        raise DomainError(_l("Only the child's guardians can do this."))
    if not invitation.is_open:
        raise DomainError(_l("This invitation is no longer open."))
    invitation.cancelled_at = utcnow()
    db.session.flush()


def open_invitations(child: Child) -> list[GuardianInvitation]:
    """Invitations for this child that nobody has accepted or cancelled yet."""
    max_age = timedelta(seconds=current_app.config["INVITATION_MAX_AGE"])
    return list(
        db.session.scalars(
            select(GuardianInvitation)
            .join(guardian_invitation_children)
            .where(
                guardian_invitation_children.c.child_id == child.id,
                GuardianInvitation.accepted_at.is_(None),
                GuardianInvitation.cancelled_at.is_(None),
                GuardianInvitation.created_at > utcnow() - max_age,
            )
            .order_by(GuardianInvitation.created_at)
        )
    )


def remove_guardian(child: Child, *, actor: User, guardian: User) -> None:
    """A guardian removes another guardian (or leaves); a child always keeps at least one."""
    lock_child(child)
    db.session.expire(child, ["guardianships"])  # read them again, under the lock
    require_guardian(actor, child)
    guardianship = db.session.scalar(
        select(Guardianship).where(
            Guardianship.child_id == child.id, Guardianship.user_id == guardian.id
        )
    )
    if guardianship is None:
        raise DomainError(_l("This person is not a guardian of this child."))
    count = db.session.scalar(select(func.count()).where(Guardianship.child_id == child.id))
    if count <= 1:
        raise DomainError(
            _l("A child always keeps at least one guardian: invite another one first.")
        )
    db.session.delete(guardianship)
    db.session.flush()
    db.session.expire(child, ["guardianships"])
    if guardian.id != actor.id:
        queue_email_to_user(guardian, "guardian_removed", child=child, actor=actor)
