"""Certificate codes: shape, randomness, normalisation and the check character."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.certificates.codes import (
    ALPHABET,
    DATA_LENGTH,
    LENGTH,
    check_character,
    is_well_formed,
    new_code,
    normalize_code,
)

SHAPE = re.compile(r"AL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")

bodies = st.text(alphabet=ALPHABET, min_size=DATA_LENGTH, max_size=DATA_LENGTH).map(
    lambda data: data + check_character(data)
)


def formatted(body: str) -> str:
    return f"AL-{body[:4]}-{body[4:8]}-{body[8:]}"


def test_new_code_has_the_shape_and_is_well_formed():
    for _ in range(200):
        code = new_code()
        assert SHAPE.fullmatch(code)
        assert is_well_formed(code)
        assert normalize_code(code) == code


def test_new_codes_do_not_repeat_and_use_the_whole_alphabet():
    codes = {new_code() for _ in range(5000)}
    assert len(codes) == 5000
    used = {char for code in codes for char in code[3:].replace("-", "")}
    assert used == set(ALPHABET)


def test_alphabet_leaves_out_letters_that_read_as_others():
    assert len(ALPHABET) == 32
    assert not set("ILOU") & set(ALPHABET)


@given(bodies)
def test_every_single_substitution_is_caught(body):
    for position in range(LENGTH):
        for char in ALPHABET:
            if char != body[position]:
                typo = body[:position] + char + body[position + 1 :]
                assert normalize_code(typo) is None, typo
                assert not is_well_formed(formatted(typo))


@given(bodies)
def test_every_adjacent_transposition_is_caught(body):
    for position in range(LENGTH - 1):
        first, second = body[position], body[position + 1]
        if first != second:
            swapped = body[:position] + second + first + body[position + 2 :]
            assert normalize_code(swapped) is None, swapped
            assert normalize_code(formatted(swapped)) is None


@given(bodies)
def test_every_transposition_at_a_distance_is_caught_too(body):
    for i in range(LENGTH):
        for j in range(i + 2, LENGTH):
            if body[i] != body[j]:
                chars = list(body)
                chars[i], chars[j] = chars[j], chars[i]
                assert normalize_code("".join(chars)) is None


def test_the_check_catches_every_substitution_exhaustively_at_each_position():
    # Independent of the rest of the code: the error w * e is non-zero for all 31 * 32 pairs.
    body = "0" * DATA_LENGTH
    body += check_character(body)
    assert normalize_code(body) == formatted(body)
    for position in range(LENGTH):
        for char in ALPHABET[1:]:
            assert normalize_code(body[:position] + char + body[position + 1 :]) is None


@given(bodies, st.data())
def test_normalize_tolerates_case_spaces_dashes_and_look_alikes(body, data):
    canonical = formatted(body)
    typed = body.lower() if data.draw(st.booleans()) else body
    typed = typed.replace("0", data.draw(st.sampled_from(["0", "o", "O"])))
    typed = typed.replace("1", data.draw(st.sampled_from(["1", "i", "I", "l", "L"])))
    separator = data.draw(st.sampled_from(["", " ", "-", " - ", "–", "  "]))
    typed = separator.join(typed[i : i + 4] for i in range(0, LENGTH, 4))
    prefix = data.draw(st.sampled_from(["", "AL", "al", "AL-", "al ", "A1-"]))
    assert normalize_code(f"  {prefix}{typed}\n") == canonical


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "AL",
        "AL-7K3M-9QX2-HF4",  # too short
        "AL-7K3M-9QX2-HF4TT",  # too long
        "XX-7K3M-9QX2-HF4T",  # wrong prefix
        "AL-7K3M-9QX2-HFUT",  # U is not in the alphabet
        "AL-7K3M-9QX2-HF*T",
        "https://example.com/verify/AL-7K3M",
    ],
)
def test_normalize_refuses_what_is_not_a_code(text):
    assert normalize_code(text) is None
    assert not is_well_formed(text)


def test_arabic_indic_digits_are_read_as_digits():
    code = new_code()
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert normalize_code(arabic) == code


def test_is_well_formed_wants_the_canonical_form():
    code = new_code()
    assert is_well_formed(code)
    assert not is_well_formed(code.lower())
    assert not is_well_formed(code.replace("-", ""))
    assert not is_well_formed(code[3:])


def test_check_character_refuses_bad_input():
    with pytest.raises(ValueError, match="expected 11"):
        check_character("ABC")
    with pytest.raises(ValueError, match="expected 11"):
        check_character("I" * DATA_LENGTH)
