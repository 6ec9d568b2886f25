"""The shortcuts taken for speed give the same certificates as the long way round."""

from __future__ import annotations

import gc

import pytest

from lms.certificates import drawing, rendering
from lms.certificates.rendering import render_certificate

from .conftest import certificate_data


def test_the_collector_runs_rarely_while_rendering_and_as_before_after(monkeypatch):
    seen = []
    layout = rendering._Renderer.layout

    def watch(self, certificates):
        seen.append(gc.get_threshold()[0])
        return layout(self, certificates)

    monkeypatch.setattr(rendering._Renderer, "layout", watch)
    before = gc.get_threshold()
    render_certificate(certificate_data())
    assert seen == [rendering.GC_YOUNG_THRESHOLD]
    assert gc.get_threshold() == before


def test_the_thresholds_come_back_after_a_failure(monkeypatch):
    def fail(self, certificates):
        raise MemoryError("out of memory")

    monkeypatch.setattr(rendering._Renderer, "layout", fail)
    before = gc.get_threshold()
    with pytest.raises(MemoryError):
        render_certificate(certificate_data())
    assert gc.get_threshold() == before
    with rendering._rarer_collections():
        with rendering._rarer_collections():
            pass
        assert gc.get_threshold()[0] == rendering.GC_YOUNG_THRESHOLD
    assert gc.get_threshold() == before


# --- Backgrounds drawn once, copied after -----------------------------------------------------


@pytest.mark.parametrize("track", rendering.TRACKS)
def test_a_copied_background_gives_the_bytes_of_one_drawn_afresh(monkeypatch, track):
    data = certificate_data(track=track)
    copied = [render_certificate(data), render_certificate(data)]
    monkeypatch.setattr(drawing, "replay", lambda image: image)
    monkeypatch.setattr(rendering, "RENDERER_MAX_AGE", -1)  # a renderer that never copies
    assert copied == [render_certificate(data)] * 2


class FakeStream:
    def __init__(self) -> None:
        self.stream = [b"1 0 0 1 0 0 cm"]
        self._ctm_stack = [None]
        self._resources = {"ExtGState": {}, "XObject": {}, "Pattern": {}, "Shading": {}}


class FakeImage:
    def __init__(self, *, with_image: bool = False) -> None:
        self.drawn = 0
        self.with_image = with_image

    def draw(self, stream, width, height, style):
        self.drawn += 1
        stream._resources["ExtGState"]["a1.0"] = {"ca": 1.0}
        stream.stream += [b"/a1.0 gs", f"0 0 {width} {height} re".encode(), b"f"]
        if self.with_image:
            stream._resources["XObject"]["i1"] = object()
            stream.stream.append(b"/i1 Do")


def test_a_plain_drawing_is_made_once_per_size_and_copied_exactly():
    image = drawing.replay(FakeImage())
    assert drawing.replay(image) is image
    first, second, other_size = FakeStream(), FakeStream(), FakeStream()
    image.draw(first, 10, 20, None)
    image.draw(second, 10, 20, None)
    image.draw(other_size, 30, 20, None)
    assert image.drawn == 2
    assert b"\n".join(second.stream) == b"\n".join(first.stream)
    assert second._resources == first._resources
    assert second._resources["ExtGState"]["a1.0"] is not first._resources["ExtGState"]["a1.0"]


def test_a_drawing_with_objects_of_its_own_is_drawn_every_time():
    image = drawing.replay(FakeImage(with_image=True))
    streams = [FakeStream() for _ in range(3)]
    for stream in streams:
        image.draw(stream, 10, 20, None)
    assert image.drawn == 3
    assert all(stream._resources["XObject"] for stream in streams)


def test_a_group_already_drawn_into_is_drawn_afresh():
    image = drawing.replay(FakeImage())
    image.draw(FakeStream(), 10, 20, None)
    used = FakeStream()
    used._resources["ExtGState"]["s0"] = {"ca": 0.5}
    image.draw(used, 10, 20, None)
    assert image.drawn == 2
