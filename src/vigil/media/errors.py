"""Typed refusals of untrusted input.

Every refusal carries a stable `reason` (lower_snake, stored in error records and
counted in scan summaries) and a human-readable message. Callers catch `MediaError`,
record it, and go on.
"""

import dataclasses
import re

#: An object's default repr (`<_io.BytesIO object at 0x7f...>`), which Pillow and
#: others put in messages: it says nothing to an analyst and differs run to run.
_OBJECT_REPR = re.compile(r"<[A-Za-z_][\w.]* object at 0x[0-9a-fA-F]+>")


class MediaError(Exception):
    """Base class: the input was refused or could not be read."""

    reason: str = "unreadable"

    def __init__(self, message: str) -> None:
        message = _OBJECT_REPR.sub("the input", message)
        super().__init__(message)
        self.message = message


class FileTooLargeError(MediaError):
    reason = "file_too_large"


class EmptyFileError(MediaError):
    reason = "empty_file"


class UnsupportedTypeError(MediaError):
    reason = "unsupported_type"


class DecodeError(MediaError):
    """The bytes claim a format but do not decode as it."""

    reason = "decode_error"


class TruncatedError(MediaError):
    reason = "truncated"


class TooManyPixelsError(MediaError):
    """Pixel count above the limit, or a decompression bomb."""

    reason = "too_many_pixels"


class DecodeTimeoutError(MediaError):
    reason = "timeout"


class PathTraversalError(MediaError):
    """An archive member name is absolute or climbs out with `..`."""

    reason = "path_traversal"


class NestingTooDeepError(MediaError):
    reason = "nesting_too_deep"


class TooManyMembersError(MediaError):
    reason = "too_many_members"


class ExpansionTooLargeError(MediaError):
    """An archive expands to more bytes than the limit allows (zip bomb)."""

    reason = "expansion_too_large"


class CompressionRatioError(MediaError):
    """A member compresses far better than real media does (zip bomb)."""

    reason = "compression_ratio"


class DependencyMissingError(MediaError):
    """The decoder for this kind of file is an optional dependency not installed
    (HEIF: the `vigil[heif]` extra); the message says what to install."""

    reason = "dependency_missing"


class ArchiveError(MediaError):
    """The archive container itself is corrupt or truncated."""

    reason = "archive_error"


class FileVanishedError(MediaError):
    """The file was listed but was gone (or unreadable) by the time it was read."""

    reason = "file_vanished"


class NotRegularFileError(MediaError):
    """A FIFO, device, socket or directory where a file was expected: refused at
    once, never opened for reading (a FIFO would block, /dev/zero never ends)."""

    reason = "not_regular_file"


class SymlinkSkippedError(MediaError):
    """A symbolic link met in a scan: recorded with its target, never followed."""

    reason = "symlink"


class ChangedWhileReadError(MediaError):
    """The file's size or modification time changed while it was read: its hashes
    may be of neither version."""

    reason = "changed_while_read"


class SpecialMemberError(MediaError):
    """An archive member is a link, device or FIFO: recorded, never followed or read."""

    reason = "special_member"


class EncryptedMemberError(MediaError):
    """An archive member is encrypted and cannot be read without its password."""

    reason = "encrypted_member"


class MetadataError(MediaError):
    """Metadata was present but malformed, over a limit, or inconsistent."""

    reason = "malformed_metadata"


@dataclasses.dataclass(frozen=True)
class ErrorRecord:
    """A refusal or failure, with a stable reason code and a human-readable message;
    `member_path` is "" for the file itself."""

    member_path: str
    reason: str
    message: str

    @classmethod
    def of(cls, member_path: str, error: MediaError) -> "ErrorRecord":
        """The record of a typed refusal."""
        return cls(member_path, error.reason, error.message)
