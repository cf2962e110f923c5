"""Model-file fingerprints as the model-sharing ecosystem writes them.

Generation records name models by these (A1111 `Model hash` is AutoV2, `Lora hashes`
AutoV3), the model-file scanner computes them, and hash lists hold them; so they sit
below all three.
"""

import dataclasses
import enum


class ModelHashKind(enum.StrEnum):
    """The fingerprint conventions of the model-sharing ecosystem."""

    AUTOV1 = "autov1"  # 8 hex: legacy A1111 hash of 64 KiB at offset 1 MiB
    AUTOV2 = "autov2"  # 10 hex: first 10 of the file's SHA-256
    AUTOV3 = "autov3"  # 12 hex: first 12 of SHA-256 of a safetensors' tensor data
    SHA256 = "sha256"
    BLAKE3 = "blake3"


@dataclasses.dataclass(frozen=True)
class ModelHash:
    kind: ModelHashKind
    value: str  # lower-case hex

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "value": self.value}
