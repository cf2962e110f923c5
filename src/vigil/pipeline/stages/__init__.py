"""The built-in stages, in the order a scan runs them: perceptual hashes, PDQ
variants for matching, provenance evidence, the prompt filter on found generation
records, the detectors fused into `ai_likelihood`, and the model-file
inspector."""

from vigil.pipeline.stage import Stage
from vigil.pipeline.stages.detect import DetectStage
from vigil.pipeline.stages.image_hash import ImageHashStage
from vigil.pipeline.stages.model import ModelStage
from vigil.pipeline.stages.prompt import PromptStage
from vigil.pipeline.stages.provenance import ProvenanceStage
from vigil.pipeline.stages.variants import VariantStage

BUILTIN_STAGES: list[type[Stage]] = [
    ImageHashStage,
    VariantStage,
    ProvenanceStage,
    PromptStage,
    DetectStage,
    ModelStage,
]

__all__ = [
    "BUILTIN_STAGES",
    "DetectStage",
    "ImageHashStage",
    "ModelStage",
    "PromptStage",
    "ProvenanceStage",
    "VariantStage",
]
