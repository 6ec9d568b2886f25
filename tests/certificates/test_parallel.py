"""Sharing work between forked processes keeps the order and reports failures."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from lms.certificates import parallel

pytestmark = pytest.mark.skipif(not parallel.CAN_FORK, reason="needs os.fork (Linux)")


def squares_with_pid(part: list[int]) -> list[tuple[int, int]]:
    # Long enough that a worker is still busy with its share when the next one is handed out,
    # as with real rendering; otherwise the first worker to start may take every share.
    time.sleep(0.2)
    return [(item * item, os.getpid()) for item in part]


def test_results_come_back_in_order_from_several_processes():
    results = parallel.map_shares(squares_with_pid, range(20), 3)
    assert [square for square, _ in results] == [item * item for item in range(20)]
    assert len({pid for _, pid in results}) == 3
    assert results[0][1] == os.getpid()  # the first share runs here


def test_small_batches_stay_in_this_process():
    results = parallel.map_shares(squares_with_pid, range(7), 4)
    assert {pid for _, pid in results} == {os.getpid()}


def test_shares_are_contiguous_and_not_too_small():
    items = list(range(30))
    assert parallel.shares(items, 2) == [items[:15], items[15:]]
    assert [len(share) for share in parallel.shares(items, 4)] == [8, 8, 7, 7]
    assert parallel.shares(items[:7], 2) == [items[:7]]
    assert parallel.shares(items[:3], 4) == [items[:3]]
    assert parallel.shares([], 2) == [[]]


class Unwelcome(Exception):
    """An exception of the work's own, to tell it from anything the pool raises."""


def fail_in_child(part: list[int]) -> list[int]:
    if 15 in part:
        raise Unwelcome("fifteen is not welcome", part[0])
    return part


def test_a_failing_child_raises_its_own_exception_here_after_all_children_end():
    with pytest.raises(Unwelcome, match="fifteen is not welcome") as raised:
        parallel.map_shares(fail_in_child, range(20), 2)
    assert raised.value.args == ("fifteen is not welcome", 10)  # from the second share
    assert raised.value.__cause__ is not None  # the child's traceback comes along
    assert "fail_in_child" in str(raised.value.__cause__)
    assert multiprocessing.active_children() == []


def test_a_failure_here_still_waits_for_the_children():
    with pytest.raises(Unwelcome, match="fifteen"):
        parallel.map_shares(fail_in_child, range(40), 2)  # 15 is in the first share
    assert multiprocessing.active_children() == []


def die_in_child(part: list[int]) -> list[int]:
    if 19 in part:
        os._exit(3)
    return part


def test_a_child_that_dies_is_reported():
    with pytest.raises(BrokenProcessPool, match="terminated abruptly"):
        parallel.map_shares(die_in_child, range(20), 2)
    assert multiprocessing.active_children() == []


def test_no_processes_from_a_threaded_process():
    assert parallel.automatic_processes(30) == min(os.cpu_count() or 1, 4)
    assert parallel.automatic_processes(5) == 1
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert parallel.automatic_processes(30) == 1
    finally:
        stop.set()
        thread.join()
