"""Shared template filters."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from lms.templating import percent


@pytest.mark.parametrize(
    ("value", "french"),
    [
        (None, "—"),
        (0, "0\u00a0%"),
        (79.6, "79\u00a0%"),  # below an 80 % threshold: never shown as 80 %
        (100 * 2 / 3, "66\u00a0%"),
        (80, "80\u00a0%"),
        (100, "100\u00a0%"),
    ],
)
def test_percent_rounds_down_like_the_threshold_is_compared(ctx, value, french):
    with force_locale("fr"):
        assert percent(value) == french


def test_percent_in_arabic_and_english(ctx):
    with force_locale("en"):
        assert percent(79.6) == "79%"
    with force_locale("ar"):
        assert percent(79.6) == "79%"
