"""Who may download or manage certificates."""

from __future__ import annotations

from lms.accounts.models import User
from lms.certificates.models import Certificate, CertificateStatus
from lms.families.permissions import is_guardian


def can_download_certificate(user: User, certificate: Certificate) -> bool:
    """Coordinators, and the child's guardians while the certificate is valid (a revoked or
    superseded PDF still reads as valid once printed); nobody once the holder's data is
    erased."""
    if not user.is_authenticated or certificate.holder_erased_at is not None:
        return False
    if user.is_coordinator:
        return True
    return (
        user.is_parent
        and certificate.status == CertificateStatus.VALID
        and is_guardian(user, certificate.child)
    )


def can_manage_certificates(user: User) -> bool:
    """Coordinators issue, revoke and reissue."""
    return user.is_authenticated and user.is_coordinator
