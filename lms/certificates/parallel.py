"""Share a batch of work between forked copies of this process (Linux), in order.

Rendering is CPU-bound Python, so threads would not help; forked processes inherit the
fonts and stylesheet already loaded in this one, so they start working at once.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

CAN_FORK = "fork" in multiprocessing.get_all_start_methods()
MIN_SHARE = 4  # below this, another process costs more than it saves
MAX_PROCESSES = 4


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

    The first share runs here while forked children run the others; a child's failure is
    raised here as RuntimeError once every child has finished.
    """
    parts = shares(items, processes if CAN_FORK else 1)
    if len(parts) == 1:
        return work(parts[0])
    context = multiprocessing.get_context("fork")
    children = []
    for part in parts[1:]:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_run_share, args=(work, part, sender))
        child.start()
        sender.close()
        children.append((child, receiver))
    try:
        results = work(parts[0])
    finally:
        outcomes = [_collect(child, receiver) for child, receiver in children]
    for status, payload in outcomes:
        if status != "ok":
            raise RuntimeError(f"a share failed in a child process: {payload}")
        results.extend(payload)
    return results


def _run_share(work: Callable[[list], list], part: list, sender) -> None:
    """In a forked child: do the work and send back its result or its error."""
    try:
        sender.send(("ok", work(part)))
    except Exception as error:
        sender.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        sender.close()


def _collect(child, receiver) -> tuple[str, Any]:
    try:
        return receiver.recv()
    except EOFError:
        child.join()
        return "error", f"the process ended with code {child.exitcode}"
    finally:
        receiver.close()
        child.join()
