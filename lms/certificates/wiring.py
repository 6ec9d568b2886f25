"""Certificates take part in what families does: the data export and the erasure."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from lms.families import hooks
from lms.families.models import Child


def _export(user, children: Sequence[Child]) -> hooks.ExportSection:
    from lms.certificates.services import certificates_of_children

    return hooks.ExportSection(
        key="certificates",
        title=_l("Certificates"),
        data=[
            {
                "code": certificate.code,
                "child_id": certificate.child_id,
                "course": certificate.data.get("course_title_fr"),
                "status": certificate.status,
                "issued_at": certificate.issued_at.isoformat(),
                "revoked_at": certificate.revoked_at.isoformat()
                if certificate.revoked_at
                else None,
                "verification_url": certificate.data.get("verification_url"),
            }
            for certificate in certificates_of_children([child.id for child in children])
        ],
        labels={
            "code": _l("Code"),
            "child_id": _l("Child"),
            "course": _l("Workshop"),
            "status": _l("Status"),
            "issued_at": _l("Issued on"),
            "revoked_at": _l("Revoked on"),
            "verification_url": _l("Verification page"),
        },
    )


def _describe_erasure(child: Child) -> list:
    from lms.certificates.services import certificates_of_child

    count = len(certificates_of_child(child))
    if not count:
        return []
    return [
        ngettext(
            "%(num)d certificate: its PDF is deleted; checking its code will say the holder's "
            "data was erased.",
            "%(num)d certificates: their PDFs are deleted; checking their codes will say the "
            "holder's data was erased.",
            count,
        )
    ]


def _erase(child: Child) -> None:
    from lms.certificates.services import erase_holder

    erase_holder(child)


hooks.export_sections.register(_export)
hooks.child_erasures.register(hooks.Erasure(describe=_describe_erasure, erase=_erase))
