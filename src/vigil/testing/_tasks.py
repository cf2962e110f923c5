"""Module-level task functions for engine contracts (picklable into workers)."""


def square(value: int) -> int:
    return value * value


def crash_on_seven(value: int) -> int:
    """Kills its worker process outright on 7, as a native decoder crash would."""
    import os

    if value == 7:
        os._exit(1)
    return value * value


def crashed(value: int, _why: str) -> int:
    return -value
