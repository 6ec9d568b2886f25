"""The "threshold out of reach" notice is claimed by a unique row: the save that loses the race
(two lessons of a cohort saved at once) carries on, without an error and without a second mail."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.attendance.models import ThresholdNotice
from lms.attendance.notices import claim_threshold_notice
from lms.database import utcnow
from lms.extensions import db


def test_only_the_first_claim_wins_and_the_session_goes_on(app, term):
    with app.app_context():
        enrolment_id = term.enrolment_ids[0]
        assert claim_threshold_notice(enrolment_id, now=utcnow()) is True
        assert claim_threshold_notice(enrolment_id, now=utcnow()) is False
        # The transaction is still usable after the refused insert.
        assert db.session.scalar(select(func.count()).select_from(ThresholdNotice)) == 1
