"""The inline engine: runs every task in the calling process, one after another.

For debugging, tests and tiny jobs; a native crash here ends the process, so scans use
the local process pool by default.
"""

import typing as t

from vigil.pipeline.engines.base import Engine, R, T


class InlineEngine(Engine):
    name = "inline"

    def map_unordered(
        self,
        fn: t.Callable[[T], R],
        tasks: t.Iterable[T],
        on_crash: t.Callable[[T, str], R],  # noqa: ARG002 - nothing to survive in-process
    ) -> t.Iterator[R]:
        for task in tasks:
            yield fn(task)
