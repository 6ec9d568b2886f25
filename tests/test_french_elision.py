from markupsafe import Markup

from lms.i18n import french_elision


def test_de_and_que_are_elided_before_a_name_that_starts_with_a_vowel():
    assert french_elision("Présences de Adam", ["Adam"]) == "Présences d'Adam"
    assert (
        french_elision("Profil de Élise, que Omar", ["Élise", "Omar"]) == "Profil d'Élise, qu'Omar"
    )


def test_consonants_an_h_numbers_and_escaped_text_are_left_as_written():
    assert (
        french_elision("de Hamza et de Yasmine", ["Hamza", "Yasmine"]) == "de Hamza et de Yasmine"
    )
    assert french_elision("groupe de 9 ans", [9]) == "groupe de 9 ans"
    assert french_elision(Markup("de Inès &amp; Co"), ["Inès & Co"]) == Markup("d'Inès &amp; Co")
