"""Share a batch of work between forked copies of this process (Linux), in order.

Rendering is CPU-bound Python, so threads would not help; forked processes inherit the
fonts and stylesheet already loaded in this one, so they start working at once.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

CAN_FORK = "fork" in multiprocessing.get_all_start_methods()
MIN_SHARE = 4  # below this, another process costs more than it saves
MAX_PROCESSES = 4

# In a worker: the work it was forked with. Passed through the fork rather than pickled with
# each share, since a renderer (fonts, stylesheet) cannot be pickled and need not be.
_work: Callable[[list], list] | None = None


def automatic_processes(count: int) -> int:
    """How many processes suit ``count`` items: one per CPU for big batches, else one.

    Never more than one in a process that runs several threads (a threaded server): a
    fork copies only the calling thread, and a lock another thread held stays held.
    """
    if not CAN_FORK or threading.active_count() > 1 or count < 2 * MIN_SHARE:
        return 1
    return min(os.cpu_count() or 1, MAX_PROCESSES)


def shares(items: Sequence, processes: int) -> list[list]:
    """``items`` cut into at most ``processes`` contiguous, nearly equal shares."""
    processes = max(1, min(processes, len(items) // MIN_SHARE or 1))
    size, extra = divmod(len(items), processes)
    result, start = [], 0
    for index in range(processes):
        end = start + size + (index < extra)
        result.append(list(items[start:end]))
        start = end
    return result


def map_shares(work: Callable[[list], list], items: Sequence, processes: int) -> list[Any]:
    """``work`` applied to contiguous shares of ``items``, results concatenated in order.

    The first share runs here while forked workers run the others. An exception raised by
    ``work`` in a worker is raised again here, once every worker has finished; a worker that
    dies raises ``BrokenProcessPool``.
    """
    parts = shares(items, processes if CAN_FORK else 1)
    if len(parts) == 1:
        return work(parts[0])
    with ProcessPoolExecutor(
        max_workers=len(parts) - 1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_receive_work,
        initargs=(work,),  # with "fork", handed over in memory, never pickled
    ) as pool:
        futures = [pool.submit(_run_share, part) for part in parts[1:]]
        results = work(parts[0])  # leaving the block waits for the workers, even on failure
        for future in futures:
            results.extend(future.result())
    return results


def _receive_work(work: Callable[[list], list]) -> None:
    global _work
    _work = work


def _run_share(part: list) -> list:
    return _work(part)
