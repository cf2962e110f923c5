"""The image-hash stage: decode an image once at the scale its hashers need and
hash it (PDQ by default); the decode gives the item its size in pixels."""

import dataclasses
import typing as t

from vigil.hashing.base import ImageHasher
from vigil.media.base import MediaKind
from vigil.media.errors import ErrorRecord, MediaError
from vigil.media.subject import Subject
from vigil.pipeline.stage import Stage, StageContext, StageResult

IMAGE_KINDS = frozenset(kind for kind in MediaKind if kind.is_image)


@dataclasses.dataclass(frozen=True)
class ImageFacts(StageResult):
    """The decoded image's size and its perceptual hashes."""

    width: int | None = None
    height: int | None = None
    frame_count: int | None = None


class ImageHashStage(Stage):
    name = "hash"
    media_kinds = IMAGE_KINDS

    def __init__(self, hashers: t.Sequence[ImageHasher] | None = None) -> None:
        if hashers is None:
            from vigil.hashing.pdq import PDQHasher

            hashers = (PDQHasher(),)
        self.hashers = tuple(hashers)

    @property
    def decode_target_px(self) -> int | None:
        """The largest size a hasher needs; None if one needs full resolution."""
        targets = [h.decode_target_px for h in self.hashers]
        if any(target is None for target in targets):
            return None
        return max(t.cast(list[int], targets))

    def applies_to(self, subject: Subject) -> bool:
        return bool(self.hashers) and super().applies_to(subject)

    def run(self, subject: Subject, context: StageContext) -> StageResult:  # noqa: ARG002
        try:
            image = subject.decoded(self.decode_target_px)
            hashes = tuple(hasher.hash_image(image) for hasher in self.hashers)
        except MediaError as exc:
            return ImageFacts(errors=(ErrorRecord.of(subject.member_path, exc),))
        return ImageFacts(
            hashes=hashes,
            width=image.width,
            height=image.height,
            frame_count=image.frame_count,
        )

    def options(self) -> dict[str, t.Any]:
        return {"hashers": [f"{h.name}:{h.pipeline}" for h in self.hashers]}
