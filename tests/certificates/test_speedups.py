"""The shortcuts taken for speed give the same certificates as the long way round."""

from __future__ import annotations

import gc

import pytest

from lms.certificates import rendering
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
