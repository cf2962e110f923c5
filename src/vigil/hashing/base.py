"""The Hasher interface.

Design notes:
- Why strings? Hashes cross every boundary (CLI, API, database, hash-list files) as
  lower-case hex strings; vectors exist only inside indexes. A hasher never returns ""
  for "could not": it raises a typed error (`vigil.media.errors.MediaError`) that
  becomes an error record.
- Two capabilities, two small interfaces: `StreamHasher` consumes the bytes of a file in
  chunks (one read serves md5, sha1 and sha256 together); `ImageHasher` works on a
  decoded image. Callers test capability with `isinstance`, never `hasattr`.
- Pipelines: a perceptual hash depends on how the image was decoded and resized. Every
  `HashResult` names the pipeline that made it, so stored hashes made by different
  pipelines are never silently compared as if they were one.
- Thread safety: hasher instances are immutable and safe to share; `StreamHasher.new()`
  returns a fresh mutable state per file.
"""

import abc
import dataclasses
import typing as t

from vigil.hashing.types import BUILTIN, HashType
from vigil.media.base import DecodedImage


@dataclasses.dataclass(frozen=True)
class HashResult:
    """One hash of one item.

    `quality` is the hasher's own confidence (PDQ: 0-100) or None where the algorithm
    has none; `is_reliable` is False for hashes the algorithm's authors say not to match
    on.
    """

    hasher: str
    value: str
    pipeline: str
    quality: int | None = None
    is_reliable: bool = True


@dataclasses.dataclass(frozen=True)
class HasherExample:
    """A benign input with its known hash, for the contract test suite."""

    data: bytes
    value: str
    source: str  # where the pair comes from (a standard's test vector, a fixture)


class Hasher(abc.ABC):
    """Base of every hasher. `name` is stable: the key in the store and in files."""

    name: t.ClassVar[str]
    hex_length: t.ClassVar[int]  # length of the lower-case hex value

    @property
    def hash_type(self) -> HashType:
        """What the values are: validation, distance, threshold, index. A built-in
        type of this name, else a cryptographic type of this hex length; perceptual
        hashers override it."""
        known = BUILTIN.get(self.name)
        if known is not None:
            return known
        return HashType(name=self.name, hex_length=self.hex_length)

    def examples(self) -> list[HasherExample]:
        """Benign byte inputs with known values; empty where none are available."""
        return []


class StreamState(t.Protocol):
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


class StreamHasher(Hasher):
    """Hashes raw bytes, fed in chunks."""

    @property
    def pipeline(self) -> str:
        return self.name

    @abc.abstractmethod
    def new(self) -> StreamState:
        """A fresh state to feed one file's bytes into."""


class ImageHasher(Hasher):
    """Hashes a decoded image.

    `decode_target_px` tells the decoder the smallest side it needs, so it may decode
    large JPEGs with DCT scaling; None means "decode at full size".
    """

    decode_target_px: int | None = None  # configured instances may set their own

    @property
    def pipeline(self) -> str:
        """How the image was decoded and resized before hashing (stored with each
        hash); hashers with one fixed pipeline keep the default, their name."""
        return self.name

    @abc.abstractmethod
    def hash_image(self, image: DecodedImage) -> HashResult:
        """Hash one decoded image."""
