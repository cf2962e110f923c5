"""The result of inspecting one model file or folder: `ModelReport`.

Plain data (frozen dataclasses, `as_dict` for JSON) so reports cross process
boundaries and go into the store unchanged. No content bytes: an embedded image is
represented by its hashes, never its data.
"""

import dataclasses
import typing as t

from vigil.hashing.model import ModelHash, ModelHashKind
from vigil.modelfiles._globals import GlobalVerdict
from vigil.modelfiles.base import Finding, JSONValue, ModelError, ModelFormat
from vigil.modelfiles.pickles import PickleScan
from vigil.modelfiles.risk import ModelRisk
from vigil.modelfiles.thumbnail import EmbeddedImage
from vigil.modelfiles.training import TrainingInfo


@dataclasses.dataclass(frozen=True)
class TensorSummary:
    count: int
    parameters: int
    dtypes: t.Mapping[str, int]
    kind_hint: str  # lora | lycoris | embedding | checkpoint | empty

    def as_dict(self) -> dict[str, JSONValue]:
        return {**dataclasses.asdict(self), "dtypes": dict(self.dtypes)}


@dataclasses.dataclass(frozen=True)
class ModelReport:
    """Everything Vigil learned about one model file or folder."""

    path: str
    format: ModelFormat
    size: int
    fingerprints: t.Mapping[str, str]  # see vigil.modelfiles.fingerprints
    risk: ModelRisk
    metadata: t.Mapping[str, str] = dataclasses.field(default_factory=dict)
    training: TrainingInfo | None = None
    tensors: TensorSummary | None = None
    pickle: PickleScan | None = None
    thumbnail: EmbeddedImage | None = None
    details: t.Mapping[str, JSONValue] = dataclasses.field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    errors: tuple[ModelError, ...] = ()
    components: tuple["ModelReport", ...] = ()  # diffusers: one report per weight file

    def model_hashes(self) -> tuple[ModelHash, ...]:
        """Hashes to look up in model hash lists and generation records."""
        hashes = [
            ModelHash(kind, self.fingerprints[kind.value])
            for kind in ModelHashKind
            if kind.value in self.fingerprints
        ]
        for component in self.components:
            hashes.extend(component.model_hashes())
        return tuple(hashes)

    @property
    def is_dangerous_to_load(self) -> bool:
        """Loading it with pickle would import something that runs code."""
        parts = (self, *self.components)
        return any(
            p.pickle is not None and p.pickle.verdict is GlobalVerdict.DANGEROUS
            for p in parts
        )

    def as_dict(self) -> dict[str, JSONValue]:
        return {
            "path": self.path,
            "format": self.format.value,
            "size": self.size,
            "fingerprints": dict(self.fingerprints),
            "risk": self.risk.as_dict(),
            "metadata": dict(self.metadata),
            "training": self.training.as_dict() if self.training else None,
            "tensors": self.tensors.as_dict() if self.tensors else None,
            "pickle": self.pickle.as_dict() if self.pickle else None,
            "thumbnail": self.thumbnail.as_dict() if self.thumbnail else None,
            "details": dict(self.details),
            "findings": [f.as_dict() for f in self.findings],
            "errors": [e.as_dict() for e in self.errors],
            "components": [c.as_dict() for c in self.components],
        }
