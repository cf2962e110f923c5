"""File and member names, which are untrusted bytes: kept losslessly, shown safely.

Design notes:
- On POSIX a name is bytes. Python hands undecodable bytes over as lone surrogates
  (`surrogateescape`: b"\\xff" becomes "\\udcff"), which no database, JSON encoder
  or terminal accepts as text. Tar member names arrive the same way.
- Stored: `to_text` maps a name to valid Unicode text without NUL, and `from_text`
  gives the exact name back, so the store keeps every name losslessly and a file
  can be opened again from it. The mapping is a bijection: an escape character
  from Unicode's private-use plane 16 (`ESCAPE`) prefixes each lone surrogate, each
  NUL and each escape character written in a real name.
- Shown: `display` escapes what could forge an output line or reach a terminal
  (newlines, carriage returns, escape sequences, every control and format
  character) and shows undecodable bytes as `\\xNN`, so one record stays one line.
"""

import os
import unicodedata

#: U+10FD00, in plane 16's private-use area: it prefixes every character that
#: `to_text` had to replace. Names on real file systems essentially never use it;
#: when one does, it is doubled, so the mapping stays exact.
ESCAPE = "\U0010fd00"
_BASE = 0x10FD00
_SURROGATES = range(0xDC80, 0xDD00)  # what surrogateescape makes of bytes 0x80-0xff
_NUL_CODE = _BASE + 1


def to_text(name: str) -> str:
    """`name` as text any database stores (valid UTF-8, no NUL); `from_text`
    inverts it exactly."""
    if name.isascii() and "\x00" not in name:
        return name  # the common case, unchanged
    out: list[str] = []
    for char in name:
        code = ord(char)
        if code in _SURROGATES:
            out.append(ESCAPE + chr(_BASE + (code - 0xDC00)))  # 0x10FD80-0x10FDFF
        elif char == "\x00":
            out.append(ESCAPE + chr(_NUL_CODE))
        elif char == ESCAPE:
            out.append(ESCAPE + ESCAPE)
        elif 0xD800 <= code <= 0xDFFF:  # any other lone surrogate: keep its number
            out.append(ESCAPE + chr(_BASE + 0x100 + (code - 0xD800) // 0x100))
            out.append(chr(_BASE + 0x200 + (code - 0xD800) % 0x100))
        else:
            out.append(char)
    return "".join(out)


def from_text(text: str) -> str:
    """The name `to_text` stored, exactly as it was.

    Raises:
        ValueError: `text` was not made by `to_text`.
    """
    if ESCAPE not in text:
        return text
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char != ESCAPE:
            out.append(char)
            continue
        follow = next(chars, "")
        code = ord(follow) if follow else -1
        if follow == ESCAPE:
            out.append(ESCAPE)
        elif code == _NUL_CODE:
            out.append("\x00")
        elif _BASE + 0x80 <= code < _BASE + 0x100:
            out.append(chr(0xDC00 + code - _BASE))
        elif _BASE + 0x100 <= code < _BASE + 0x108:
            low = next(chars, "")
            if not low or not _BASE + 0x200 <= ord(low) < _BASE + 0x300:
                raise ValueError("a stored name has a broken escape")
            out.append(
                chr(0xD800 + (code - _BASE - 0x100) * 0x100 + ord(low) - _BASE - 0x200)
            )
        else:
            raise ValueError("a stored name has a broken escape")
    return "".join(out)


def display(name: str) -> str:
    """`name` safe to print on one line: undecodable bytes as `\\xNN`, control and
    format characters (newline, ESC, bidi overrides) as Python escapes, the rest
    as written."""
    if name.isprintable():
        return name
    out: list[str] = []
    for char in name:
        code = ord(char)
        if code in _SURROGATES:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable() and unicodedata.category(char) != "Cf":
            out.append(char)
        elif char == " ":
            out.append(char)
        else:
            out.append(
                char.encode("unicode_escape", "backslashreplace").decode("ascii")
            )
    return "".join(out)


def display_surrogates(text: str) -> str:
    """Text with each lone surrogate written out (`\\xNN` for an undecodable
    byte), everything else as it is: for messages that quote a name."""
    out = []
    for char in text:
        code = ord(char)
        if code in _SURROGATES:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def name_bytes(name: str) -> bytes:
    """The bytes of a name as the file system has them (the lossless form for
    JSON output, as hex)."""
    return os.fsencode(name)
