"""Journey: a parent registers, logs out and in, switches to Arabic, resets the password."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import links_in

EMAIL = "amina.elidrissi@example.ma"
FIRST_PASSWORD = "une-phrase-facile-2026"
NEW_PASSWORD = "jardin-de-la-mendoubia"


def test_register_logout_login_arabic_and_reset(ui):
    page = ui.visit("/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("link", name="Créer un compte parent").click()
    ui.audit()

    # A first try with a weak password is refused with a clear message, nothing lost.
    page.get_by_label("Nom complet").fill("Amina El Idrissi")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Numéro de téléphone").fill("06 61 23 45 67")
    page.get_by_label("Mot de passe", exact=True).fill("azerty")
    page.get_by_label("Répétez le mot de passe").fill("azerty")
    page.get_by_label("J'ai lu et j'accepte").check()
    page.get_by_role("button", name="Créer mon compte").click()
    ui.audit()
    expect(page.get_by_text("Utilisez au moins 10 caractères.")).to_be_visible()
    expect(page.get_by_label("Nom complet")).to_have_value("Amina El Idrissi")

    page.get_by_label("Mot de passe", exact=True).fill(FIRST_PASSWORD)
    page.get_by_label("Répétez le mot de passe").fill(FIRST_PASSWORD)
    page.get_by_label("J'ai lu et j'accepte").check()
    page.get_by_role("button", name="Créer mon compte").click()
    ui.audit()
    # The same answer whether the address is known or not, and nobody is logged in by it.
    expect(page.get_by_text("Vérifiez votre boîte de réception")).to_be_visible()
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    ui.audit()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amina El Idrissi")

    page.get_by_role("button", name="Se déconnecter").click()
    ui.audit()
    expect(page.get_by_text("Vous êtes déconnecté sur tous vos appareils.")).to_be_visible()

    page.get_by_label("Adresse e-mail").fill(EMAIL.upper())
    page.get_by_label("Mot de passe").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    ui.audit()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amina El Idrissi")

    # Arabic: right to left, remembered for the account.
    page.get_by_role("button", name="العربية").click()
    ui.audit()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.get_by_role("heading", level=1)).to_contain_text("مرحبًا")
    ui.screenshot("parent-home-ar")
    page.get_by_role("button", name="تسجيل الخروج").click()
    ui.audit()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    # Forgotten password, in Arabic, through the link in the mail log.
    page.get_by_role("link", name="نسيت كلمة المرور؟").click()
    ui.audit()
    page.get_by_label("البريد الإلكتروني").fill(EMAIL)
    page.get_by_role("button", name="أرسلوا لي رابطًا").click()
    ui.audit()
    mail = ui.wait_for_mail(EMAIL, "/password/reset/")
    assert "Language: ar" in mail
    link = next(link for link in links_in(mail) if "/password/reset/" in link)
    page.goto(link)
    ui.audit()
    page.get_by_label("كلمة المرور الجديدة").fill(NEW_PASSWORD)
    page.get_by_label("أعد كتابة كلمة المرور").fill(NEW_PASSWORD)
    page.get_by_role("button", name="حفظ كلمة المرور").click()
    ui.audit()
    expect(page.get_by_text("تم حفظ كلمة المرور")).to_be_visible()

    # The link worked once.
    page.goto(link)
    ui.audit()
    expect(page.get_by_text("هذا الرابط غير صالح أو سبق استخدامه.")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="تسجيل الدخول").click()
    ui.audit()
    page.get_by_label("البريد الإلكتروني").fill(EMAIL)
    page.get_by_label("كلمة المرور").fill(NEW_PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول").click()
    ui.audit()
    expect(page).to_have_url(re.compile(r"/parent$"))
