"""Run page fetches on a bounded thread pool and hand the results back in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

A = TypeVar("A")
R = TypeVar("R")


def ordered_map(
    fn: Callable[[A], R], items: Iterable[A], *, concurrency: int, ahead: int | None = None
) -> Iterator[tuple[A, R]]:
    """Yield (item, fn(item)) in input order, running at most `concurrency` calls at once.

    At most `ahead` results (default 2 x concurrency) wait unread, which bounds memory;
    closing the iterator cancels what has not started.
    """
    window = max(1, ahead if ahead is not None else 2 * concurrency)
    source = iter(items)
    pending: deque[tuple[A, Future[R]]] = deque()
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="fetch") as pool:
        try:
            for item in source:
                pending.append((item, pool.submit(fn, item)))
                if len(pending) >= window:
                    break
            while pending:
                item, future = pending.popleft()
                result = future.result()
                for nxt in source:
                    pending.append((nxt, pool.submit(fn, nxt)))
                    break
                yield item, result
        finally:
            for _, future in pending:
                future.cancel()
