"""Hash types that describe themselves: validation, distance, threshold and index.

Design notes:
- Everything about a hash type lives on its `HashType`, as python-threatexchange
  keeps it on `SignalType`: the hex length that validates a value, whether a Hamming
  distance means anything (perceptual) or only equality does (cryptographic), the
  default match threshold with the source of the number, the band past it that is
  "near, review", and the index to search it with. Matching, formats and the store
  ask the catalogue; none keeps its own list of types.
- A `Hasher` declares its `hash_type`; the registry gathers them with the built-in
  types that no Vigil hasher makes (model-file fingerprints, video digests), so a
  third-party perceptual hasher is matched by scans without an edit in `matching/`.
- Unknown types (photodna, tmk) stay opaque strings: exchanged, never matched by
  Hamming distance.
"""

import dataclasses
import re
import typing as t

_HEX = re.compile(r"[0-9a-f]+")

# ThreatExchange PDQ docs (pdq/README.md): 31 bits is the recommended match
# threshold for 256-bit PDQ.
PDQ_MATCH_THRESHOLD_BITS = 31
# Hash-lists issue: PDQ distances between the list threshold and 52 bits are
# reported as "near, review", never as matches.
PDQ_NEAR_REVIEW_BITS = 52
# Meta PDQ docs (pdq/README.md): "Quality Threshold where we recommend discarding
# hashes: <=49". The same number as `vigil.hashing.pdq.PDQ_MIN_RELIABLE_QUALITY`
# (a test pins them together); kept here too because the hasher imports this module.
PDQ_MIN_RELIABLE_QUALITY = 50


@dataclasses.dataclass(frozen=True)
class HashType:
    """One kind of hash, as it crosses every boundary: a lower-case hex string."""

    name: str
    hex_length: int | None  # None: an opaque string of any length
    is_perceptual: bool = False
    default_threshold_bits: int = 0  # a match is within this many bits
    threshold_source: str = "exact equality"
    near_review_bits: int = 0  # past the threshold and within this: near, review
    index: str = "exact"  # the Index plugin that searches it
    same_as: str | None = None  # the type whose values these are (video_md5 -> md5)
    # Perceptual types: a query hash of lower quality is never a match (None: the
    # type has no quality metric).
    min_reliable_quality: int | None = None

    @property
    def bits(self) -> int | None:
        return None if self.hex_length is None else self.hex_length * 4

    def normalise(self, value: str) -> str:
        """Strip and lower-case a value, checking its hex length.

        Raises:
            ValueError: not hex of the right length (or empty, for opaque types).
        """
        value = value.strip()
        if self.hex_length is None:
            if not value:
                raise ValueError(f"empty {self.name} value")
            return value
        lowered = value.lower()
        if len(lowered) != self.hex_length or not _HEX.fullmatch(lowered):
            raise ValueError(
                f"{self.name} must be {self.hex_length} hex digits, "
                f"got {len(value)} characters"
            )
        return lowered

    def distance(self, a: str, b: str) -> int:
        """Hamming distance in bits for perceptual types; 0 or the full length (no
        match at any threshold) for the others."""
        if not self.is_perceptual:
            return 0 if a == b else (self.bits or 1)
        return (int(a, 16) ^ int(b, 16)).bit_count()

    def is_degenerate(self, value: str) -> bool:
        """Whether a perceptual hash is constant (one byte repeated: all-zero, all-one,
        `8080...`): what blank, flat or one-pixel images hash to, so it is near
        every other such image and says nothing about content. Digests never are."""
        if not self.is_perceptual or len(value) < 2 or len(value) % 2:
            return False
        return value == value[:2] * (len(value) // 2)

    def is_reliable_quality(self, quality: int | None) -> bool:
        """False only for a known quality below the type's minimum."""
        return (
            quality is None
            or self.min_reliable_quality is None
            or quality >= self.min_reliable_quality
        )

    def search_radius(self, threshold_bits: int, *, near: bool) -> int:
        if not self.is_perceptual:
            return 0
        return max(threshold_bits, self.near_review_bits) if near else threshold_bits


def _crypto(name: str, hex_length: int, same_as: str | None = None) -> HashType:
    return HashType(name=name, hex_length=hex_length, same_as=same_as)


PDQ = HashType(
    name="pdq",
    hex_length=64,
    is_perceptual=True,
    default_threshold_bits=PDQ_MATCH_THRESHOLD_BITS,
    threshold_source="ThreatExchange PDQ docs: 31 bits",
    near_review_bits=PDQ_NEAR_REVIEW_BITS,
    index="mih",
    min_reliable_quality=PDQ_MIN_RELIABLE_QUALITY,
)

#: Types Vigil knows without any hasher: digests, PDQ, model-file fingerprints
#: (their lengths are the model-sharing ecosystem's truncations, see
#: vigil.modelfiles.fingerprints) and the video digests lists name separately
#: (NCMEC, StopNCII `VideoMD5`: digests of the file bytes, as Vigil's own).
BUILTIN_HASH_TYPES: tuple[HashType, ...] = (
    _crypto("md5", 32),
    _crypto("sha1", 40),
    _crypto("sha256", 64),
    PDQ,
    _crypto("autov1", 8),
    _crypto("autov2", 10),
    _crypto("autov3", 12),
    _crypto("blake3", 64),
    _crypto("crc32", 8),
    _crypto("video_md5", 32, same_as="md5"),
    _crypto("video_sha256", 64, same_as="sha256"),
)


class HashTypes(t.Mapping[str, HashType]):
    """A catalogue of hash types by name (immutable; `with_types` extends it)."""

    def __init__(self, types: t.Iterable[HashType] = BUILTIN_HASH_TYPES) -> None:
        self._types: dict[str, HashType] = {}
        for hash_type in types:
            known = self._types.get(hash_type.name)
            if known is not None and known != hash_type:
                raise ValueError(f"hash type {hash_type.name!r} is declared twice")
            self._types[hash_type.name] = hash_type

    def __getitem__(self, name: str) -> HashType:
        return self._types[name]

    def __iter__(self) -> t.Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def with_types(self, types: t.Iterable[HashType]) -> "HashTypes":
        return HashTypes([*self._types.values(), *types])

    def normalise(self, name: str, value: str) -> str:
        """Validate a value of a known type; opaque types are only stripped."""
        hash_type = self._types.get(name)
        if hash_type is None:
            return HashType(name=name, hex_length=None).normalise(value)
        return hash_type.normalise(value)

    def canonical(self, name: str) -> str:
        """The type whose index holds this type's values (video_md5 -> md5)."""
        hash_type = self._types.get(name)
        return hash_type.same_as or name if hash_type else name

    def is_perceptual(self, name: str) -> bool:
        hash_type = self._types.get(name)
        return hash_type is not None and hash_type.is_perceptual


#: The catalogue of built-in types, for parsers that run without a registry.
BUILTIN = HashTypes()
