"""The Engine interface.

Design notes:
- An engine maps a pure, picklable function over tasks and yields results as they
  finish, in any order. Only the caller writes to the store, so every engine gives the
  same results.
- Crashes: untrusted files can crash native decoders. An engine never lets one crash end
  a scan: it turns the task that crashed into `on_crash(task, message)` and goes on.
- Back-pressure: engines keep a bounded number of tasks in flight, so a scan of millions
  of files never holds them all in memory.
"""

import abc
import typing as t

T = t.TypeVar("T")
R = t.TypeVar("R")


class Engine(abc.ABC):
    """Runs `fn` over tasks; results come back as they finish."""

    name: t.ClassVar[str]

    @abc.abstractmethod
    def map_unordered(
        self,
        fn: t.Callable[[T], R],
        tasks: t.Iterable[T],
        on_crash: t.Callable[[T, str], R],
    ) -> t.Iterator[R]:
        """Yield `fn(task)` for every task, or `on_crash(task, why)` where a worker
        died."""

    def examples(self) -> list[t.Any]:
        """Benign inputs with known results for the contract suite (each with a
        `source` naming where it comes from); empty where none are needed."""
        return []

    def close(self) -> None:
        """Release workers. Engines are also context managers."""
        return None

    def __enter__(self) -> t.Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
