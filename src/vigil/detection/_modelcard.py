"""The ONNX detector's model card: a small JSON file saying how to feed a model and
read its output, parsed strictly (unknown keys, wrong types and out-of-range values
are refused with the key named). Separate from `onnx.py` so the card can be read
and tested without onnxruntime. The format is described in `vigil.detection.onnx`.
"""

import dataclasses
import enum
import json
import math
import os
import pathlib
import typing as t

#: The one card format this module reads.
CARD_FORMAT = "vigil.onnx_card/1"
#: A card is a few hundred bytes; anything near this is not a card.
MAX_CARD_BYTES = 64 * 1024
#: Largest input side accepted. Vigil's choice: image classifiers and embedders
#: take 224-518 px; 4096 px already means a 200 MB float input tensor.
MAX_INPUT_SIDE_PX = 4096
#: Longest embedding accepted (CLIP ViT-bigG is 1280; DINOv2-g is 1536).
MAX_EMBEDDING_DIM = 16384
#: Longest classifier output accepted (ImageNet-21k heads have 21,843 classes).
MAX_OUTPUT_CLASSES = 100_000
_ONNX_SUFFIX = ".onnx"
_CARD_SUFFIX = ".card.json"


class Layout(enum.StrEnum):
    NCHW = "nchw"
    NHWC = "nhwc"


class ChannelOrder(enum.StrEnum):
    RGB = "rgb"
    BGR = "bgr"


class ValueRange(enum.StrEnum):
    UNIT = "0-1"  # pixels divided by 255 before mean/std
    BYTE = "0-255"  # pixels as they are


class Crop(enum.StrEnum):
    CENTRE_CROP = "centre_crop"  # scale the short side to fit, cut the centre
    RESIZE = "resize"  # stretch the whole image to the input size


class Resample(enum.StrEnum):
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    NEAREST = "nearest"


class OutputKind(enum.StrEnum):
    PROBABILITY_AI = "probability_ai"
    EMBEDDING = "embedding"


class Activation(enum.StrEnum):
    SOFTMAX = "softmax"  # over every element of the output
    SIGMOID = "sigmoid"  # of the element at `index`
    NONE = "none"  # the element at `index` is already a probability


@dataclasses.dataclass(frozen=True)
class InputSpec:
    height_px: int
    width_px: int
    layout: Layout
    channels: ChannelOrder
    value_range: ValueRange
    mean: tuple[float, float, float]  # in the order the model reads channels
    std: tuple[float, float, float]
    crop: Crop
    resample: Resample
    name: str | None  # None: the model's only input


@dataclasses.dataclass(frozen=True)
class OutputSpec:
    kind: OutputKind
    name: str | None  # None: the model's first output
    activation: Activation | None  # probability_ai only
    index: int | None  # probability_ai only
    dim: int | None  # embedding only


@dataclasses.dataclass(frozen=True)
class ModelCard:
    name: str
    input: InputSpec
    output: OutputSpec
    model_sha256: str | None  # verified when the model is loaded


def card_beside(model: pathlib.Path) -> pathlib.Path:
    """Where a model's card is looked for: `detector.onnx` -> `detector.card.json`."""
    stem = model.name.removesuffix(_ONNX_SUFFIX)
    return model.with_name(stem + _CARD_SUFFIX)


def read_card(path: pathlib.Path) -> ModelCard:
    """The card at `path`.

    Raises:
        ValueError: the file is missing, too large, not JSON, or not a valid card;
            the message names the file and the key.
    """
    if not os.path.isfile(path):  # before opening: a FIFO would block
        raise ValueError(f"model card {path} is missing or not a regular file")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CARD_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"model card {path} cannot be read: {exc}") from exc
    if len(raw) > MAX_CARD_BYTES:
        raise ValueError(f"model card {path} is over {MAX_CARD_BYTES} bytes")
    try:
        document = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_unique_keys,
            parse_constant=_refuse_constant,
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"model card {path} is not JSON: {exc}") from exc
    except _CardError as exc:
        raise ValueError(f"model card {path}: {exc}") from exc
    try:
        return parse_card(document)
    except _CardError as exc:
        raise ValueError(f"model card {path}: {exc}") from exc


def parse_card(document: t.Any) -> ModelCard:
    """A card from its decoded JSON; raises `_CardError` (a ValueError)."""
    top = _object(document, "card", required={"format", "input", "output"},
                  optional={"name", "model_sha256"})  # fmt: skip
    if top["format"] != CARD_FORMAT:
        raise _CardError(f"format: expected {CARD_FORMAT!r}, got {top['format']!r}")
    name = _string(top.get("name", "onnx_model"), "name")
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise _CardError(f"name: {name!r} is not lower_snake ASCII")
    sha = top.get("model_sha256")
    if sha is not None:
        sha = _string(sha, "model_sha256").lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise _CardError("model_sha256: not 64 hexadecimal digits")
    return ModelCard(name.lower(), _input(top["input"]), _output(top["output"]), sha)


def _input(value: t.Any) -> InputSpec:
    spec = _object(
        value,
        "input",
        required={"size", "layout", "channels", "value_range", "mean", "std", "crop"},
        optional={"name", "resample"},
    )
    size = spec["size"]
    if not isinstance(size, list) or len(size) != 2:
        raise _CardError("input.size: expected [height, width]")
    height, width = (
        _integer(side, f"input.size[{i}]", 1, MAX_INPUT_SIDE_PX)
        for i, side in enumerate(size)
    )
    mean = _triple(spec["mean"], "input.mean")
    std = _triple(spec["std"], "input.std")
    if any(s <= 0 for s in std):
        raise _CardError("input.std: every value must be above 0")
    name = spec.get("name")
    return InputSpec(
        height_px=height,
        width_px=width,
        layout=_choice(Layout, spec["layout"], "input.layout"),
        channels=_choice(ChannelOrder, spec["channels"], "input.channels"),
        value_range=_choice(ValueRange, spec["value_range"], "input.value_range"),
        mean=mean,
        std=std,
        crop=_choice(Crop, spec["crop"], "input.crop"),
        resample=_choice(Resample, spec.get("resample", "bilinear"), "input.resample"),
        name=None if name is None else _string(name, "input.name"),
    )


def _output(value: t.Any) -> OutputSpec:
    kind = _choice(OutputKind, _object(value, "output").get("kind"), "output.kind")
    if kind is OutputKind.PROBABILITY_AI:
        spec = _object(value, "output", required={"kind", "activation", "index"},
                       optional={"name"})  # fmt: skip
        activation = _choice(Activation, spec["activation"], "output.activation")
        index = _integer(spec["index"], "output.index", 0, MAX_OUTPUT_CLASSES - 1)
        dim = None
    else:
        spec = _object(value, "output", required={"kind", "dim"}, optional={"name"})
        activation, index = None, None
        dim = _integer(spec["dim"], "output.dim", 1, MAX_EMBEDDING_DIM)
    name = spec.get("name")
    name = None if name is None else _string(name, "output.name")
    return OutputSpec(kind, name, activation, index, dim)


class _CardError(ValueError):
    pass


def _object(
    value: t.Any,
    where: str,
    *,
    required: set[str] | None = None,
    optional: set[str] | None = None,
) -> dict[str, t.Any]:
    if not isinstance(value, dict):
        raise _CardError(f"{where}: expected an object")
    if required is not None:
        missing = sorted(required - value.keys())
        if missing:
            raise _CardError(f"{where}: missing {', '.join(missing)}")
        unknown = sorted(value.keys() - required - (optional or set()))
        if unknown:
            raise _CardError(f"{where}: unknown key {', '.join(unknown)}")
    return value


def _string(value: t.Any, where: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 256:
        raise _CardError(f"{where}: expected a string of 1 to 256 characters")
    return value


def _integer(value: t.Any, where: str, low: int, high: int) -> int:
    # bool is an int in Python; `true` is not a size
    if isinstance(value, bool) or not isinstance(value, int):
        raise _CardError(f"{where}: expected an integer")
    if not low <= value <= high:
        raise _CardError(f"{where}: {value} is not in [{low}, {high}]")
    return value


def _triple(value: t.Any, where: str) -> tuple[float, float, float]:
    if not isinstance(value, list) or len(value) != 3:
        raise _CardError(f"{where}: expected 3 numbers, one per channel")
    numbers: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise _CardError(f"{where}: expected numbers")
        if not math.isfinite(item) or abs(item) > 1e6:
            raise _CardError(f"{where}: {item} is out of range")
        numbers.append(float(item))
    return numbers[0], numbers[1], numbers[2]


E = t.TypeVar("E", bound=enum.StrEnum)


def _choice(kind: type[E], value: t.Any, where: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in kind)
        raise _CardError(f"{where}: {value!r} is not one of {allowed}") from None


def _unique_keys(pairs: list[tuple[str, t.Any]]) -> dict[str, t.Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _CardError("a key appears twice in one object")
    return dict(pairs)


def _refuse_constant(value: str) -> t.NoReturn:
    raise _CardError(f"{value} is not a number JSON allows")
