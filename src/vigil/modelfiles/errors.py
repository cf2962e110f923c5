"""Typed refusals of model files, each with a stable `reason`.

They subclass `MetadataError` (itself a `MediaError`), so a scan records them like
any other refusal of untrusted input and goes on.
"""

from vigil.media.errors import MetadataError


class ModelFileError(MetadataError):
    """A model file (or a part of it) is malformed or over a limit."""

    reason = "malformed_model"


class HeaderTooLargeError(ModelFileError):
    """A safetensors header claims more bytes than the cap allows."""

    reason = "safetensors_header_too_large"


class HeaderOutOfBoundsError(ModelFileError):
    """A safetensors header claims more bytes than the file holds."""

    reason = "safetensors_header_out_of_bounds"


class HeaderFormatError(ModelFileError):
    """A safetensors header is not a JSON object of well-formed tensor entries."""

    reason = "safetensors_invalid_header"


class TensorLayoutError(ModelFileError):
    """Tensor offsets fall outside the data, overlap, or disagree with dtype x shape."""

    reason = "safetensors_invalid_offsets"


class PickleFormatError(ModelFileError):
    """A pickle opcode stream is malformed or truncated."""

    reason = "malformed_pickle"


class PickleTruncatedError(PickleFormatError):
    """A pickle ends (or an argument runs past the end) before its STOP opcode."""

    reason = "truncated_pickle"


class PickleLimitError(ModelFileError):
    """A pickle needs more opcodes, memo, stack or time than the limits allow."""

    reason = "pickle_limit"


class ModelArchiveError(ModelFileError):
    """A PyTorch zip is corrupt, truncated or over a limit."""

    reason = "model_archive_error"


class ThumbnailError(ModelFileError):
    """An embedded thumbnail is not base64 image data, or is over its limit."""

    reason = "thumbnail_error"
