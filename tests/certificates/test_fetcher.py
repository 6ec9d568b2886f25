"""The certificate URL fetcher serves the app's static files and nothing else."""

from __future__ import annotations

import socket

import pytest
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError

from lms.certificates.rendering import (
    STATIC_DIR,
    ResourceRefused,
    StaticOnlyFetcher,
    static_only_fetcher,
)

STATIC = STATIC_DIR.as_uri()


def test_serves_a_static_font():
    response = static_only_fetcher(f"{STATIC}/fonts/Amiri-Bold.ttf")
    assert response.read() == (STATIC_DIR / "fonts" / "Amiri-Bold.ttf").read_bytes()


def test_serves_the_logo_with_its_type():
    response = static_only_fetcher(f"{STATIC}/img/logo.svg")
    assert response.content_type == "image/svg+xml"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        f"{STATIC}/../certificates/codes.py",
        f"{STATIC}/fonts/../../config.py",
        f"{STATIC}/%2e%2e/%2e%2e/pyproject.toml",
        f"{STATIC}/fonts/..%2F..%2Fconfig.py",
        f"file://evil.example.com{STATIC_DIR}/img/logo.svg",
        f"{STATIC}/fonts/",
        f"{STATIC}/fonts/missing.ttf",
        f"{STATIC}/fonts/Amiri-Bold.ttf%00.txt",
        "http://example.com/logo.svg",
        "https://example.com/font.ttf",
        "ftp://example.com/x",
        "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>",
        "fonts/Amiri-Bold.ttf",
        "",
    ],
)
def test_refuses_everything_else(url):
    with pytest.raises(ResourceRefused):
        static_only_fetcher.fetch(url)


def test_refuses_a_symbolic_link_that_leads_out_of_the_static_folder(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (static / "link.txt").symlink_to(tmp_path / "secret.txt")
    (static / "ok.txt").write_text("ok")
    fetcher = StaticOnlyFetcher(static)
    assert fetcher.fetch((static / "ok.txt").as_uri()).read() == b"ok"
    with pytest.raises(ResourceRefused):
        fetcher.fetch((static / "link.txt").as_uri())


@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network used during rendering")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.mark.parametrize(
    "html",
    [
        '<img src="https://example.com/tracker.png">',
        '<link rel="stylesheet" href="http://example.com/style.css">',
        "<style>@font-face { font-family: x; src: url(file:///etc/passwd) }"
        " p { font-family: x }</style><p>x</p>",
        '<img src="../certificates/codes.py">',
    ],
)
def test_a_document_that_asks_for_anything_else_is_not_rendered(html, no_network):
    document = HTML(string=html, base_url=f"{STATIC}/", url_fetcher=static_only_fetcher)
    with pytest.raises(FatalURLFetchingError):
        document.render()
    assert no_network == []
