"""Model formats, limits and findings shared by every model-file reader.

Design notes:
- Why never unpickle? Loading a pickle (`pickle.load`, `torch.load`) runs whatever
  callables it names. Model files are untrusted evidence: readers here only walk
  bytes (safetensors JSON, pickle opcodes, zip directories) and never import or call
  what a file names.
- Findings versus errors: a finding is a fact worth an analyst's attention in a file
  that was read (a dangerous pickle global, a duplicate header key, bytes no tensor
  claims); an error is a part of a file that could not be read within limits. A
  report can carry both, and a bad part never hides what the other parts showed.
- Limits: every reader takes `ModelLimits`; the defaults are sized for real
  checkpoints and LoRAs and can be raised per scan.
"""

import dataclasses
import enum
import typing as t

GIB = 1024 * 1024 * 1024
MIB = 1024 * 1024

JSONValue = t.Any  # str | int | float | bool | None | list | dict of these


class ModelFormat(enum.StrEnum):
    """What a model file (or folder) is, decided by its content."""

    SAFETENSORS = "safetensors"
    PYTORCH_ZIP = "pytorch_zip"  # torch.save since 1.6 (.pt/.pth/.ckpt/.bin)
    PICKLE = "pickle"  # raw pickle stream(s): legacy torch.save, .pkl embeddings
    GGUF = "gguf"
    ONNX = "onnx"
    DIFFUSERS = "diffusers"  # a folder with model_index.json
    ARCHIVE = "archive"  # a plain zip, tar or 7z with a pickle member (also .npz)
    NUMPY = "numpy"  # a .npy object array: a pickle after the array header
    COMPRESSED_PICKLE = "compressed_pickle"  # joblib compress=: gzip/zlib/bz2/xz/lzma
    UNKNOWN = "unknown"


class Severity(enum.StrEnum):
    """How much a finding matters on its own."""

    HIGH = "high"  # loading the file runs code, or the file is built to deceive
    REVIEW = "review"  # unusual; a person should look
    INFO = "info"  # context for the analyst


@dataclasses.dataclass(frozen=True)
class Finding:
    """One fact about a model file. `code` is stable lower_snake; `where` names the
    part of the file (`header`, `archive/data.pkl`, `pickle#2`)."""

    code: str
    severity: Severity
    message: str
    where: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "where": self.where,
        }


@dataclasses.dataclass(frozen=True)
class ModelError:
    """A part of a file that could not be read; `reason` is a stable error reason."""

    reason: str
    message: str
    where: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "where": self.where}


# Default limits, with where each number comes from.
# The largest single-file image checkpoints on sharing sites (Flux.1-dev fp32) are about
# 24 GB; 64 GiB leaves room for merged checkpoints and refuses sparse-file traps.
DEFAULT_MAX_MODEL_BYTES = 64 * GIB
# huggingface/safetensors refuses headers above `MAX_HEADER_SIZE = 100_000_000`.
DEFAULT_MAX_HEADER_BYTES = 100_000_000
# SDXL checkpoints hold about 2,500 tensors and LLM shards a few thousand; 200,000 is
# 80x the largest seen and keeps the parsed header under about 100 MB of objects.
DEFAULT_MAX_TENSORS = 200_000
# Vigil's choice: kohya tag lists of large datasets hold tens of thousands of tags.
DEFAULT_MAX_TAGS = 200_000
# A state-dict pickle costs roughly 30 opcodes a tensor; 10 million covers the largest
# checkpoints with room to spare and bounds the walk to seconds.
DEFAULT_MAX_PICKLE_OPCODES = 10_000_000
DEFAULT_MAX_PICKLE_MEMO = 1_000_000
DEFAULT_MAX_PICKLE_STACK = 1_000_000
DEFAULT_MAX_PICKLE_SECONDS = 30.0
# Legacy torch.save writes four pickles (magic, protocol, sys info, object) before the
# raw storages; a few more allows for wrappers. More is not a model file.
DEFAULT_MAX_PICKLES_PER_STREAM = 16
# `data.pkl` of a PyTorch zip is the state dict's structure only (tensor bytes live in
# other members): a few MB for the largest models.
DEFAULT_MAX_PICKLE_MEMBER_BYTES = 256 * MIB
# Matches vigil.media's archive member cap; torch writes one member per storage.
DEFAULT_MAX_ZIP_MEMBERS = 100_000
# Same bound as vigil.media.sniff uses before zipfile loads a central directory.
DEFAULT_MAX_ZIP_DIRECTORY_BYTES = 16 * MIB
# modelspec thumbnails are small previews (a few hundred KB); 16 MiB is generous.
DEFAULT_MAX_THUMBNAIL_BYTES = 16 * MIB
# Diffusers pipelines have about ten components with one or two weight files each.
DEFAULT_MAX_FOLDER_FILES = 256


@dataclasses.dataclass(frozen=True)
class ModelLimits:
    """Bounds on what any model reader will do with one input."""

    max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_tensors: int = DEFAULT_MAX_TENSORS
    max_tags: int = DEFAULT_MAX_TAGS
    max_pickle_opcodes: int = DEFAULT_MAX_PICKLE_OPCODES
    max_pickle_memo: int = DEFAULT_MAX_PICKLE_MEMO
    max_pickle_stack: int = DEFAULT_MAX_PICKLE_STACK
    max_pickle_seconds: float = DEFAULT_MAX_PICKLE_SECONDS
    max_pickles_per_stream: int = DEFAULT_MAX_PICKLES_PER_STREAM
    max_pickle_member_bytes: int = DEFAULT_MAX_PICKLE_MEMBER_BYTES
    max_zip_members: int = DEFAULT_MAX_ZIP_MEMBERS
    max_zip_directory_bytes: int = DEFAULT_MAX_ZIP_DIRECTORY_BYTES
    max_thumbnail_bytes: int = DEFAULT_MAX_THUMBNAIL_BYTES
    max_folder_files: int = DEFAULT_MAX_FOLDER_FILES
