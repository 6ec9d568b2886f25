"""Journey: a parent adds a child with an allergy and a pickup person, invites a co-parent
who registers through the e-mailed link and then sees the child; the pages in Arabic."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from lms.accounts.services import create_user
from lms.clock import local_today
from lms.extensions import db
from tests.conftest import PASSWORD, links_in

PARENT_EMAIL = "karim.alaoui@example.ma"
CO_PARENT_EMAIL = "nadia.bennani@example.ma"
CO_PARENT_PASSWORD = "la-baie-de-tanger-2026"


def test_add_a_child_invite_a_co_parent_who_sees_the_child(ui):
    with ui.app.app_context():
        create_user(
            full_name="Karim Alaoui",
            email=PARENT_EMAIL,
            role="parent",
            phone="+212612345601",
            password=PASSWORD,
        )
        db.session.commit()
        today = local_today()
    born = today.replace(year=today.year - 9, day=1)

    page = ui.visit("/login")
    page.get_by_label("Adresse e-mail").fill(PARENT_EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    ui.audit()
    expect(page.get_by_text("Décrivez vos enfants ici")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="Mes enfants").click()
    ui.audit()
    page.get_by_role("main").get_by_role("link", name="Ajouter un enfant").click()
    ui.audit()

    # The parent is offered as the first emergency contact.
    expect(page.get_by_label("Nom complet")).to_have_value("Karim Alaoui")
    page.get_by_label("Prénom", exact=True).fill("Yasmine")
    page.get_by_label("Nom", exact=True).fill("Alaoui")
    page.get_by_label("Prénom en lettres arabes", exact=True).fill("ياسمين")
    page.get_by_label("Nom en lettres arabes", exact=True).fill("العلوي")
    page.get_by_label("Classe").fill("CE4")
    page.get_by_label("Lien avec l'enfant").fill("Père")
    # A date of birth in the future is refused, clearly, and nothing typed is lost.
    page.get_by_label("Date de naissance").fill(f"{today.year + 1}-01-01")
    page.get_by_role("button", name="Ajouter cet enfant").click()
    ui.audit()
    expect(page.get_by_text("La date de naissance ne peut pas être dans le futur.")).to_be_visible()
    expect(page.get_by_label("Prénom en lettres arabes", exact=True)).to_have_value("ياسمين")
    page.get_by_label("Date de naissance").fill(born.isoformat())
    page.get_by_role("button", name="Ajouter cet enfant").click()
    ui.audit()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yasmine Alaoui")
    expect(page.get_by_text("Profil créé pour Yasmine.")).to_be_visible()
    expect(page.get_by_text("Pas encore de décision sur les photos et vidéos.")).to_be_visible()

    # Health: consent, then an allergy.
    page.get_by_role("link", name="Modifier les informations de santé").click()
    ui.audit()
    page.get_by_label("Oui : je consens").check()
    page.get_by_label("Allergies").fill("Arachides : stylo d'adrénaline dans le sac")
    page.get_by_role("button", name="Enregistrer").click()
    ui.audit()
    expect(page.get_by_text("Arachides : stylo d'adrénaline dans le sac")).to_be_visible()

    # A grandmother may collect her.
    page.get_by_role("link", name="Ajouter une personne autorisée").click()
    ui.audit()
    page.get_by_label("Nom complet").fill("Latifa Alaoui")
    page.get_by_label("Lien avec l'enfant").fill("Grand-mère")
    page.get_by_label("Numéro de téléphone").fill("06 61 23 45 90")
    page.get_by_role("button", name="Enregistrer").click()
    ui.audit()
    pickup = page.locator("#pickup")
    expect(pickup.locator("strong", has_text="Latifa Alaoui")).to_be_visible()
    expect(pickup.get_by_text("06 61 23 45 90")).to_be_visible()

    # Invite the other parent.
    page.get_by_role("link", name="Inviter un autre parent").click()
    ui.audit()
    page.get_by_label("Adresse e-mail de l'autre parent").fill(PARENT_EMAIL)
    page.get_by_role("button", name="Envoyer l'invitation").click()
    ui.audit()
    expect(page.get_by_text("C'est votre propre adresse")).to_be_visible()
    page.get_by_label("Adresse e-mail de l'autre parent").fill(CO_PARENT_EMAIL)
    page.get_by_role("button", name="Envoyer l'invitation").click()
    ui.audit()
    expect(page.get_by_text(f"Invitation envoyée à {CO_PARENT_EMAIL}")).to_be_visible()
    expect(page.locator("#guardians").get_by_text(CO_PARENT_EMAIL)).to_be_visible()
    ui.screenshot("families-child-page-fr")
    page.get_by_role("button", name="Se déconnecter").click()
    ui.audit()

    # The co-parent follows the link in the e-mail, registers, and accepts.
    mail = ui.wait_for_mail(CO_PARENT_EMAIL, "/invitations/")
    assert "Yasmine" in mail
    link = next(link for link in links_in(mail) if "/invitations/" in link)
    page.goto(link)
    ui.audit()
    expect(
        page.get_by_text("Karim Alaoui vous invite à devenir responsable de Yasmine")
    ).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Créer un compte").click()
    ui.audit()
    page.get_by_label("Nom complet").fill("Nadia Bennani")
    page.get_by_label("Adresse e-mail").fill(CO_PARENT_EMAIL)
    page.get_by_label("Numéro de téléphone").fill("06 12 34 56 02")
    page.get_by_label("Mot de passe", exact=True).fill(CO_PARENT_PASSWORD)
    page.get_by_label("Répétez le mot de passe").fill(CO_PARENT_PASSWORD)
    page.get_by_label("J'ai lu et j'accepte").check()
    page.get_by_role("button", name="Créer mon compte").click()
    ui.audit()
    # The sign-up logs nobody in; the login leads back to the invitation.
    expect(page.get_by_text("Vérifiez votre boîte de réception")).to_be_visible()
    page.get_by_label("Adresse e-mail").fill(CO_PARENT_EMAIL)
    page.get_by_label("Mot de passe").fill(CO_PARENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    ui.audit()
    expect(page).to_have_url(re.compile(r"/invitations/"))
    page.get_by_role("button", name="Accepter l'invitation").click()
    ui.audit()
    expect(page.get_by_text("Vous êtes désormais responsable de Yasmine.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yasmine Alaoui")
    expect(page.get_by_text("Arachides : stylo d'adrénaline dans le sac")).to_be_visible()
    expect(page.locator("#pickup strong", has_text="Latifa Alaoui")).to_be_visible()
    expect(page.locator("#guardians strong", has_text="Karim Alaoui")).to_be_visible()

    # The same pages in Arabic, right to left.
    page.get_by_role("button", name="العربية").click()
    ui.audit()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", name="المعلومات الصحية", exact=True)).to_be_visible()
    expect(page.get_by_text("ياسمين العلوي")).to_be_visible()
    ui.screenshot("families-child-page-ar")
    page.get_by_role("navigation").get_by_role("link", name="الرئيسية").click()
    ui.audit()
    expect(page.get_by_role("heading", name="Yasmine Alaoui")).to_be_visible()
    expect(page.get_by_text("لم يُتخذ قرار بعد بشأن الصور ومقاطع الفيديو.")).to_be_visible()
    ui.screenshot("families-parent-home-ar")
    page.get_by_role("link", name=re.compile("^الصحة")).click()
    ui.audit()
    ui.screenshot("families-health-form-ar")
    page.goto(ui.url("/children/new"))
    ui.audit()
    ui.screenshot("families-child-form-ar")


def test_the_other_family_pages_with_the_demo_data(ui):
    """Every other family page, in Arabic for a parent and in French for a coordinator, goes
    through axe; screenshots for a human look."""
    from lms.demo import DEMO_PASSWORD, seed_demo

    with ui.app.app_context():
        seed_demo()
        db.session.commit()

    page = ui.visit("/login")
    page.get_by_label("Adresse e-mail").fill("karim.alaoui@example.ma")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    ui.audit()
    page.get_by_role("button", name="العربية").click()
    ui.audit()
    expect(page.get_by_role("heading", name="Yasmine Alaoui")).to_be_visible()
    ui.screenshot("families-demo-parent-home-ar")
    page.get_by_role("navigation").get_by_role("link", name="أطفالي").click()
    ui.audit()
    page.get_by_role("link", name="عرض كل بياناتنا (صفحة قابلة للطباعة)").click()
    ui.audit()
    expect(page.get_by_text("Arachides (cacahuètes)")).to_be_visible()
    ui.screenshot("families-export-ar")
    page.go_back()
    page.get_by_role("link", name="محو حسابي").click()
    ui.audit()
    # Nadia co-parents every child: erasing Karim's account would erase none of them.
    expect(page.get_by_text("يبقى ملف Yasmine Alaoui في حساب Nadia Bennani")).to_be_visible()
    ui.screenshot("families-erase-account-ar")
    page.get_by_role("navigation").get_by_role("link", name="أطفالي").click()
    page.get_by_role("link", name="فتح الملف Rania Alaoui").click()
    ui.audit()
    page.get_by_role("link", name="تغيير القرار").click()
    ui.audit()
    ui.screenshot("families-photo-consent-ar")
    page.go_back()
    page.get_by_role("link", name="محو بيانات Rania").click()
    ui.audit()
    page.get_by_label("كلمة المرور").fill("pas-le-bon-mot-de-passe")
    page.get_by_label("أفهم أنه لا يمكن التراجع عن ذلك.").check()
    page.get_by_role("button", name="محو بيانات Rania الآن").click()
    ui.audit()
    expect(page.get_by_text("كلمة المرور غير صحيحة.")).to_be_visible()
    ui.screenshot("families-erase-child-ar")
    page.get_by_role("button", name="تسجيل الخروج").click()
    page.get_by_role("button", name="Français").click()
    page.get_by_label("Adresse e-mail").fill("coordination@activelabs.ma")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    ui.audit()
    page.get_by_role("navigation").get_by_role("link", name="Enfants").click()
    ui.audit()
    page.get_by_label("Rechercher par nom").fill("tazi")
    page.get_by_role("button", name="Rechercher").click()
    ui.audit()
    page.get_by_role("link", name="Ilyas Tazi").click()
    ui.audit()
    expect(page.get_by_text("Asthme léger")).to_be_visible()
    expect(
        page.get_by_text("Ne pas photographier ni publier d'images de cet enfant.")
    ).to_be_visible()
    ui.screenshot("families-safeguarding-fr")
