"""Certificate codes: unguessable, easy to read aloud, with a check character.

A code looks like ``AL-7K3M-9QX2-HF4T``: the fixed prefix ``AL`` then twelve characters of
Crockford's base32 alphabet (digits and capitals without I, L, O and U, so that nothing reads
as something else), in three groups of four. The first eleven carry 55 random bits from
``secrets``; the twelfth is a check character.

The check character makes the weighted sum of all twelve values zero in the finite field
GF(32) (polynomial x^5 + x^2 + 1), with the distinct weights a^11, a^10, ..., a^1, a^0 of a
primitive element ``a``. A single wrong character changes the sum by ``w * e`` with ``w`` and
``e`` non-zero, so it is always caught. Swapping two different characters changes it by
``(w1 + w2) * (x + y)`` (addition is XOR), non-zero because the weights differ, so every
transposition is caught, adjacent or not, the check character included. A mistyped code is
therefore refused before any lookup.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

PREFIX = "AL"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
DATA_LENGTH = 11  # 55 random bits
LENGTH = DATA_LENGTH + 1  # + the check character
GROUP = 4

_VALUE = {char: value for value, char in enumerate(ALPHABET)}
# What people type for what they mean (Crockford): O is zero, I and L are one.
_CONFUSIONS = {"O": "0", "I": "1", "L": "1"}
# Separators people put in codes: spaces and every kind of dash, dot or underscore.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−_.·]+")
# A parent on an Arabic keyboard may type Arabic-Indic or Persian digits.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_CANONICAL = re.compile(rf"{PREFIX}(-[{ALPHABET}]{{{GROUP}}}){{{LENGTH // GROUP}}}")

_MODULUS = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)


def _gf_mul(a: int, b: int) -> int:
    """Product in GF(32)."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= _MODULUS
    return product


def _weights(count: int) -> list[int]:
    """a^(count-1), ..., a^1, a^0 for the primitive element a = x (2)."""
    weights = [1]
    for _ in range(count - 1):
        weights.append(_gf_mul(weights[-1], 2))
    return weights[::-1]


_DATA_WEIGHTS = _weights(LENGTH)[:DATA_LENGTH]


def _weighted_sum(values: list[int]) -> int:
    total = 0
    for weight, value in zip(_DATA_WEIGHTS, values, strict=False):
        total ^= _gf_mul(weight, value)
    return total


def check_character(data: str) -> str:
    """The check character for eleven data characters of the alphabet."""
    if len(data) != DATA_LENGTH or any(char not in _VALUE for char in data):
        raise ValueError(f"expected {DATA_LENGTH} characters of {ALPHABET}")
    # The check character has weight 1, and x + x = 0: it equals the sum of the others.
    return ALPHABET[_weighted_sum([_VALUE[char] for char in data])]


def _format(body: str) -> str:
    groups = [body[start : start + GROUP] for start in range(0, LENGTH, GROUP)]
    return "-".join([PREFIX, *groups])


def new_code() -> str:
    """A fresh random code such as ``AL-7K3M-9QX2-HF4T`` (55 bits from ``secrets``)."""
    number = secrets.randbits(5 * DATA_LENGTH)
    data = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(DATA_LENGTH))
    return _format(data + check_character(data))


def normalize_code(text: str) -> str | None:
    """The canonical form of a typed code, or None if it is not a code or has a typo.

    Case, spaces and dashes do not matter, the ``AL`` prefix may be left out, O is read as
    zero and I or L as one, Arabic-Indic digits as digits. None when the length, a
    character or the check character is wrong, so a mistyped code never reaches the database.
    """
    cleaned = unicodedata.normalize("NFKC", text or "").translate(_DIGITS)
    cleaned = _SEPARATORS.sub("", cleaned).upper()
    # The body never contains L, so "AL"/"A1" can only be the prefix (possibly "corrected").
    if len(cleaned) == len(PREFIX) + LENGTH and cleaned[:2] in ("AL", "A1"):
        cleaned = cleaned[2:]
    if len(cleaned) != LENGTH:
        return None
    body = "".join(_CONFUSIONS.get(char, char) for char in cleaned)
    if any(char not in _VALUE for char in body):
        return None
    if check_character(body[:DATA_LENGTH]) != body[DATA_LENGTH]:
        return None
    return _format(body)


def is_well_formed(code: str) -> bool:
    """Whether ``code`` is a canonical code (``AL-XXXX-XXXX-XXXX``) with a right check character."""
    return bool(_CANONICAL.fullmatch(code or "")) and normalize_code(code) == code
