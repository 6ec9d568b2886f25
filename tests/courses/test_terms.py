"""Terms of the school year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lms.courses.terms import term_by_key, term_of


@pytest.mark.parametrize(
    ("day", "key", "starts", "ends"),
    [
        (date(2026, 9, 1), "2026-autumn", date(2026, 9, 1), date(2026, 12, 31)),
        (date(2026, 12, 31), "2026-autumn", date(2026, 9, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), "2026-winter", date(2027, 1, 1), date(2027, 3, 31)),
        (date(2027, 4, 15), "2026-spring", date(2027, 4, 1), date(2027, 6, 30)),
        (date(2027, 8, 31), "2026-summer", date(2027, 7, 1), date(2027, 8, 31)),
    ],
)
def test_term_of(ctx, day, key, starts, ends):
    term = term_of(day)
    assert (term.key, term.starts_on, term.ends_on) == (key, starts, ends)
    assert term.contains(day)
    assert term_by_key(key) == term


def test_next_and_previous_cover_the_year_without_gaps(ctx):
    term = term_of(date(2026, 9, 1))
    seen = [term]
    for _ in range(4):
        term = term.next()
        assert term.starts_on == seen[-1].ends_on + timedelta(days=1)
        seen.append(term)
    assert [t.key for t in seen] == [
        "2026-autumn",
        "2026-winter",
        "2026-spring",
        "2026-summer",
        "2027-autumn",
    ]
    assert seen[4].previous() == seen[3]
    assert term_of(date(2026, 9, 1)).school_year == "2026-2027"


@pytest.mark.parametrize("key", ["", "2026", "autumn", "2026-fall", "20x6-autumn", "1-autumn"])
def test_bad_keys(ctx, key):
    assert term_by_key(key) is None
