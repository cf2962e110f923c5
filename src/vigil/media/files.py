"""Opening files that may not be files: anything but a regular file (a FIFO, a
device, a socket, a directory) is refused at once, without blocking and without
reading. Every reader of a path a user gives goes through here."""

import os
import stat as stat_module
import typing as t

from vigil.media.errors import NotRegularFileError

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def open_regular(path: str | os.PathLike[str]) -> t.BinaryIO:
    """Open a regular file for reading.

    Raises:
        NotRegularFileError: not a regular file.
        OSError: it cannot be opened.
    """
    descriptor = os.open(path, os.O_RDONLY | _NONBLOCK)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat_module.S_ISREG(mode):
            raise NotRegularFileError(f"not a regular file ({file_type(mode)})")
        if _NONBLOCK:  # back to blocking reads for a regular file
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """A small regular file's bytes, at most `max_bytes` + 1 of them (so that a
    caller can tell it was too large).

    Raises:
        NotRegularFileError: not a regular file.
        OSError: it cannot be read.
    """
    with open_regular(path) as handle:
        return handle.read(max_bytes + 1)


def file_type(mode: int) -> str:
    for test, name in (
        (stat_module.S_ISFIFO, "a FIFO"),
        (stat_module.S_ISCHR, "a character device"),
        (stat_module.S_ISBLK, "a block device"),
        (stat_module.S_ISSOCK, "a socket"),
        (stat_module.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return name
    return "an unknown file type"
