"""The variant stage: PDQ hashes of rotations, flips and border crops of an image,
used only to look the image up in hash lists (never stored as its hashes)."""

import dataclasses

from vigil.hashing.pdq import PDQ_DOWNSAMPLE_PX
from vigil.hashing.variants import pdq_variants
from vigil.media.errors import MediaError
from vigil.media.subject import Subject
from vigil.pipeline.stage import Stage, StageContext, StageResult
from vigil.pipeline.stages.image_hash import IMAGE_KINDS


@dataclasses.dataclass(frozen=True)
class Variants(StageResult):
    # (variant name, hash, quality)
    variants: tuple[tuple[str, str, int], ...] = ()


class VariantStage(Stage):
    name = "variants"
    media_kinds = IMAGE_KINDS

    def run(self, subject: Subject, context: StageContext) -> StageResult:  # noqa: ARG002
        try:
            image = subject.decoded(PDQ_DOWNSAMPLE_PX)
        except MediaError:
            return Variants()  # the hash stage already recorded the refusal
        found = pdq_variants(image)
        return Variants(variants=tuple((v.name, v.value, v.quality) for v in found))
