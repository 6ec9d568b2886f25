"""Every enrolment e-mail, to each guardian, in the guardian's language (French, Arabic)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from lms.courses.cohorts import set_cohort_status
from lms.courses.models import CohortStatus
from lms.enrolment.fees import record_payment
from lms.enrolment.joining import enrol
from lms.enrolment.leaving import cancel_enrolment, move_enrolment
from lms.enrolment.offers import decline_offer, expire_offers
from lms.extensions import db
from tests.conftest import get
from tests.enrolment.conftest import NOW, mails

ARABIC = re.compile(r"[\u0600-\u06FF]")

# template -> words its subject holds in French, and in Arabic
SUBJECTS = {
    "enrolment_confirmed": ("Inscription confirmée pour", "تم تسجيل"),
    "enrolment_waitlisted": ("sur la liste d'attente de Robotique LEGO", "في لائحة انتظار"),
    "seat_offered": ("Une place se libère pour", "شغر مقعد"),
    "offer_expired": ("n'est plus disponible", "لم يعد المقعد المعروض"),
    "enrolment_withdrawn": ("Robotique LEGO :", "روبوتات ليغو:"),
    "enrolment_cancelled": ("est annulée", "إلغاء تسجيل"),
    "enrolment_moved": ("change de groupe", "انتقال"),
    "payment_recorded": ("Paiement reçu : 800\xa0MAD", "تم التوصل بالأداء"),
    "cohort_cancelled": ("le groupe est annulé", "إلغاء المجموعة"),
}


@pytest.fixture
def every_email(make_cohort, make_family, world, frozen_now):
    """A story that sends every enrolment e-mail to a French and to an Arabic family."""
    cohort = make_cohort(capacity=2)
    other = make_cohort(capacity=4, room=world.other_room, lead=world.other_lead)
    people = {}
    for language in ("fr", "ar"):
        people[language] = [make_family(locale=language) for _ in range(4)]
    fr, ar = people["fr"], people["ar"]
    first_fr = enrol(fr[0][1], cohort, actor=get(fr[0][0]))  # confirmed
    first_ar = enrol(ar[0][1], cohort, actor=get(ar[0][0]))  # confirmed
    queue = (fr[1], ar[1], fr[2], ar[2], fr[3], ar[3])
    waiting = [enrol(c, cohort, actor=get(p)) for p, c in queue]
    record_payment(  # payment recorded
        first_fr, actor=world.coordinator, amount_centimes=80000, method="cash",
        paid_on=NOW.date(),
    )  # fmt: skip
    record_payment(
        first_ar, actor=world.coordinator, amount_centimes=80000, method="card",
        paid_on=NOW.date(),
    )  # fmt: skip
    move_enrolment(first_fr, other, actor=world.coordinator)  # moved; fr[1] offered
    move_enrolment(first_ar, other, actor=world.coordinator)  # moved; ar[1] offered
    frozen_now.move_to(NOW + timedelta(days=3))
    expire_offers()  # fr[1], ar[1] lapse; fr[2], ar[2] offered
    decline_offer(waiting[2], actor=get(fr[2][0]))  # withdrawn (declined)
    decline_offer(waiting[3], actor=get(ar[2][0]))  # ...; fr[3], ar[3] offered
    cancel_enrolment(waiting[4], actor=world.coordinator, reason="Demande")
    cancel_enrolment(waiting[5], actor=world.coordinator, reason="Demande")
    set_cohort_status(other, CohortStatus.CANCELLED, actor=world.coordinator)
    db.session.commit()
    return people


@pytest.mark.parametrize("template", sorted(SUBJECTS))
def test_each_email_in_french_and_in_arabic(every_email, template):
    for index, language in enumerate(("fr", "ar")):
        recipients = {user.email for user, _ in every_email[language]}
        sent = [m for m in mails(template) if m.recipient in recipients]
        assert sent, (template, language)
        for message in sent:
            assert message.language == language
            assert SUBJECTS[template][index] in message.subject, message.subject
            if language == "ar":
                assert ARABIC.search(message.body)
                assert "Hello" not in message.body
            else:
                assert message.body.startswith("Bonjour")


def test_the_offer_email_gives_the_deadline_and_both_links(every_email):
    user = every_email["ar"][3][0]
    [offer] = mails("seat_offered", to=user.email)
    assert offer.body.count("/offers/") == 2
    assert "بتوقيت طنجة" in offer.body  # Tangier time
