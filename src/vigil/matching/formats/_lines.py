"""Line-by-line reading of text hash lists, with the line limit and line numbers.

The CSV-like formats (`plain`, `hma_csv`) read records through here so that a long
line, bad UTF-8 or bad quoting fails the same way, naming the line it starts on.
"""

import csv
import typing as t

from vigil.matching.base import FormatError
from vigil.matching.formats._fields import MAX_RECORD_BYTES, encode


def iter_lines(stream: t.BinaryIO) -> t.Iterator[tuple[int, str]]:
    """(line number, text with its line ending) for each physical line, UTF-8."""
    number = 0
    while True:
        raw = stream.readline(MAX_RECORD_BYTES + 3)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_RECORD_BYTES and len(raw.rstrip(b"\r\n")) > MAX_RECORD_BYTES:
            raise FormatError(f"line longer than {MAX_RECORD_BYTES} bytes", line=number)
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte-order mark, as spreadsheet tools write
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"not UTF-8 text ({exc.reason})", line=number) from None


def is_skipped(text: str, *, comments: bool) -> bool:
    """Blank lines, and `#` comment lines where the format has them."""
    return not text.strip() or (comments and text.startswith("#"))


def _quoted_record(
    first: tuple[int, str], lines: t.Iterator[tuple[int, str]], delimiter: str
) -> list[str]:
    """One CSV record that starts on `first` and may go on over the next lines."""
    start, text = first
    size = len(text)

    def feed() -> t.Iterator[str]:
        nonlocal size
        yield text
        for _number, more in lines:
            size += len(more)
            if size > MAX_RECORD_BYTES:
                raise FormatError(
                    f"record longer than {MAX_RECORD_BYTES} characters", line=start
                )
            yield more

    # csv.reader pulls only the lines this one record needs.
    reader = csv.reader(feed(), delimiter=delimiter, strict=True)
    try:
        return next(reader)
    except csv.Error as exc:
        raise FormatError(f"bad CSV quoting: {exc}", line=start) from None


def iter_records(
    lines: t.Iterator[tuple[int, str]], *, delimiter: str, comments: bool
) -> t.Iterator[tuple[int, list[str]]]:
    """(first line number, fields) for each CSV record; quoted fields may span lines.

    Blank and comment lines are skipped only between records, never inside a quoted
    field. A record longer than MAX_RECORD_BYTES characters is refused.
    """
    for number, text in lines:
        if is_skipped(text, comments=comments):
            continue
        if '"' in text:
            yield number, _quoted_record((number, text), lines, delimiter)
        else:  # the common case, without the csv module's per-record cost
            yield number, text.rstrip("\r\n").split(delimiter)


class CSVWriter:
    """csv.writer onto a binary stream, UTF-8, `\n` line ends.

    With `\n` ends csv leaves a lone `\r` unquoted, which readers take for a line end;
    a row holding one is written with every field quoted instead.
    """

    def __init__(self, stream: t.BinaryIO) -> None:
        sink = _TextSink(stream)
        self._minimal = csv.writer(sink, lineterminator="\n")
        self._quote_all = csv.writer(sink, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: t.Sequence[str]) -> None:
        has_return = any("\r" in field for field in row)
        (self._quote_all if has_return else self._minimal).writerow(row)


class _TextSink:
    """The `write(str)` that csv.writer needs, encoding UTF-8 onto a binary stream."""

    def __init__(self, stream: t.BinaryIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(encode(text))
        return len(text)
