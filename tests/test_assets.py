"""Static files under versioned URLs: kept by the browser for a year, a new URL when they change."""

from __future__ import annotations

import re

from flask import url_for

from lms.assets import KEEP_SECONDS


def asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_every_page_names_its_assets_with_their_version(client):
    page = client.get("/catalogue").get_data(as_text=True)
    urls = asset_urls(page)
    assert any(url.startswith("/static/css/app.css?v=") for url in urls)
    assert urls
    assert all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in urls), urls


def test_a_versioned_file_is_kept_for_a_year(client):
    page = client.get("/catalogue").get_data(as_text=True)
    for url in asset_urls(page):
        response = client.get(url.replace("&amp;", "&"))
        response.close()
        assert response.status_code == 200, url
        cache = response.cache_control
        assert cache.max_age == KEEP_SECONDS, url
        assert cache.immutable, url
        assert cache.public, url
        assert not cache.no_cache, url


def test_without_its_version_or_with_an_old_one_the_browser_checks_again(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=0123456789ab"):
        response = client.get(url)
        response.close()
        assert response.status_code == 200
        assert response.cache_control.max_age is None
        assert not response.cache_control.immutable
        assert response.cache_control.no_cache


def test_a_changed_file_gets_a_new_url(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    style = tmp_path / "style.css"
    style.write_text("body { color: black; }")
    with app.test_request_context():
        first = url_for("static", filename="style.css")
        assert url_for("static", filename="style.css") == first
        style.write_text("body { color: navy; }")
        second = url_for("static", filename="style.css")
        # No such file, or a folder: the URL goes without a version (a 404 either way).
        assert url_for("static", filename="missing.css") == "/static/missing.css"
        assert url_for("static", filename="../etc/passwd") == "/static/../etc/passwd"
        # A URL that must never change asks for no version.
        assert url_for("static", filename="style.css", v=None) == "/static/style.css"
    assert first != second
    client = app.test_client()
    old = client.get(first)
    assert old.get_data(as_text=True) == "body { color: navy; }"  # the file as it is now...
    assert not old.cache_control.immutable  # ...but not kept under the old URL
    old.close()
    new = client.get(second)
    new.close()
    assert new.cache_control.immutable
