"""The ONNX detector: any ONNX image classifier or embedding model from a local file,
fed and read as its model card says. Separate so onnxruntime (the `ml` extra) is
only imported where a model is configured.

Configured as `ONNXDetector(model="detector.onnx", card="detector.card.json")`
(plugin options: `VIGIL_PLUGIN_OPTIONS='{"onnx": {"model": "...", "card": "..."}}'`);
without `card`, the card is `detector.card.json` beside the model. `ONNXDetector()`
has no model and no view. The model is one self-contained `.onnx` file (weights
held as external data are refused); nothing is ever fetched.

The model card (JSON, at most 64 KiB, unknown keys refused):

    {
      "format": "vigil.onnx_card/1",
      "name": "my_classifier",             optional, lower_snake, shown in reasons
      "model_sha256": "<64 hex digits>",   optional, checked when the model loads
      "input": {
        "name": "pixel_values",            optional: the model's only input
        "size": [224, 224],                [height, width] in pixels, 1-4096
        "layout": "nchw" | "nhwc",
        "channels": "rgb" | "bgr",         the order the model reads channels
        "value_range": "0-1" | "0-255",    "0-1": pixels divided by 255 first
        "mean": [m0, m1, m2],              per channel in the model's order, in
        "std": [s0, s1, s2],               value_range units: (x - mean) / std
        "crop": "centre_crop" | "resize",  centre_crop: scale the short side to
                                           fit, cut the centre; resize: stretch
        "resample": "bilinear" | "bicubic" | "nearest"   optional, bilinear
      },
      "output": {                          one of:
        "kind": "probability_ai", "index": 1,
        "activation": "softmax" | "sigmoid" | "none",
        "name": "logits"                   optional: the model's first output
      }   or   {"kind": "embedding", "dim": 512, "name": "..."}
    }

A `probability_ai` model gives P(AI) as its detection and as its one feature
(`probability_ai`): softmax over the whole output then element `index`, the
sigmoid of element `index`, or element `index` as it is. An `embedding` model has
no view of its own (probability None); its `dim` values are its features
(`embedding_0` ...), for a trained head to weigh.

Design notes:
- Processes: the instance travels to worker processes, so it holds only the paths
  and the parsed card; the onnxruntime session is made on first use, once per
  process, and never pickled. CPU only, one intra-op thread by default: the scan's
  process pool is the parallelism.
- Refusals: a bad card or a missing file is a ValueError at construction; a model
  that cannot load, does not take the card's input, or gives an output the card does
  not describe is a typed `MediaError` for each item it was asked about, with a
  stable reason, never a traceback.
- `feature_names` depends on the card, so a configured instance carries its own;
  the class's is empty (no model, no features).
"""

import hashlib
import importlib.util
import math
import os
import pathlib
import threading
import typing as t
import weakref

import numpy as np
from PIL import Image

from vigil._optional import MissingDependencyError, import_optional
from vigil.detection._modelcard import (
    Activation,
    ChannelOrder,
    Crop,
    Layout,
    ModelCard,
    OutputKind,
    Resample,
    ValueRange,
    card_beside,
    read_card,
)
from vigil.detection.base import Detection, DetectionInput, FeatureDetector
from vigil.media.base import MediaKind
from vigil.media.errors import DependencyMissingError, MediaError
from vigil.media.subject import Subject

#: Largest model file loaded: protobuf's 2 GiB message limit, past which ONNX
#: keeps weights as external data (refused here).
MAX_MODEL_BYTES = 2 * 1024 * 1024 * 1024
#: One thread per session: scans run one worker process per core.
DEFAULT_INTRA_OP_THREADS = 1
_HASH_CHUNK_BYTES = 1024 * 1024
_FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
_RESAMPLE = {
    Resample.BILINEAR: Image.Resampling.BILINEAR,
    Resample.BICUBIC: Image.Resampling.BICUBIC,
    Resample.NEAREST: Image.Resampling.NEAREST,
}
_IMAGE_KINDS = frozenset(kind for kind in MediaKind if kind.is_image)


class ModelUnavailableError(MediaError):
    """The configured model file cannot be read or loaded by onnxruntime."""

    reason = "detector_model_unavailable"


class ModelInputError(MediaError):
    """The model does not take the input its card describes."""

    reason = "detector_model_input"


class ModelOutputError(MediaError):
    """The model failed on the input, or gave an output its card does not describe."""

    reason = "detector_model_output"


class ONNXDetector(FeatureDetector):
    name: t.ClassVar[str] = "onnx"
    version: t.ClassVar[int] = 1
    media_kinds: t.ClassVar[frozenset[MediaKind] | None] = _IMAGE_KINDS
    feature_names: t.ClassVar[tuple[str, ...]] = ()  # a configured one has its own

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        card: str | os.PathLike[str] | None = None,
        *,
        threads: int = DEFAULT_INTRA_OP_THREADS,
    ) -> None:
        """Raises:
        ValueError: a card without a model, a missing model or card, a bad card.
        MissingDependencyError: a model is given and onnxruntime is not installed.
        """
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"onnx: threads must be an integer >= 1, not {threads!r}")
        self.threads = threads
        self.model_path: pathlib.Path | None = None
        self.card: ModelCard | None = None
        if model is None:
            if card is not None:
                raise ValueError("onnx: a card was given without a model")
        else:
            self.model_path = pathlib.Path(model)
            if not self.model_path.is_file():
                raise ValueError(f"onnx: model {self.model_path} is not a file")
            card_path = pathlib.Path(card) if card is not None else None
            self.card = read_card(card_path or card_beside(self.model_path))
            if importlib.util.find_spec("onnxruntime") is None:
                raise MissingDependencyError("onnxruntime", "ml")
        # an instance attribute: the names follow this instance's card
        self.__dict__["feature_names"] = _feature_names(self.card)
        self._reset()

    def options(self) -> dict[str, t.Any]:
        """The model and card by content: another model is another scan."""
        if self.model_path is None:
            return {}
        import hashlib

        digest = hashlib.sha256()
        with self.model_path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
        card = self.card
        return {
            "model": str(self.model_path),
            "model_sha256": digest.hexdigest(),
            "card": repr(card),
        }

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._session: t.Any = None
        self._failure: MediaError | None = None
        self._last: tuple[weakref.ref[Subject], np.ndarray] | None = None

    def __getstate__(self) -> dict[str, t.Any]:
        state = dict(self.__dict__)
        for key in ("_lock", "_session", "_failure", "_last"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, t.Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    def load(self) -> None:
        """Make this process's session now (else on first use), checking the model
        against its card. No-op without a model.

        Raises:
            MediaError: the model cannot load or does not fit its card.
        """
        self._session_for()

    def detect(self, subject: Subject, facts: DetectionInput) -> Detection:  # noqa: ARG002
        card = self.card
        if card is None or card.output.kind is OutputKind.EMBEDDING:
            return Detection(self.name, None)
        probability = self._probability(self._output(subject))
        reason = f"onnx model {card.name}: P(AI) {probability:.3f}"
        return Detection(self.name, probability, reasons=(reason,), is_calibrated=True)

    @property
    def is_calibrated(self) -> bool:
        """A configured classifier's P(AI) is the organisation's own, vouched for."""
        return (
            self.card is not None and self.card.output.kind is not OutputKind.EMBEDDING
        )

    def features(self, subject: Subject, facts: DetectionInput) -> tuple[float, ...]:  # noqa: ARG002
        card = self.card
        if card is None:
            return ()
        output = self._output(subject)
        if card.output.kind is OutputKind.PROBABILITY_AI:
            return (self._probability(output),)
        if output.size != card.output.dim:
            raise ModelOutputError(
                f"onnx model {card.name}: embedding has {output.size} values, "
                f"the card says {card.output.dim}"
            )
        return tuple(float(v) for v in output)

    def _output(self, subject: Subject) -> np.ndarray:
        """The model's output for this subject, flattened, as float64 (kept for the
        last subject, so `detect` and `features` run the model once)."""
        last = self._last
        if last is not None and last[0]() is subject:
            return last[1]
        card = t.cast(ModelCard, self.card)
        session, input_name, output_name, dtype = self._session_for()
        tensor = preprocess(subject.decoded(None).image, card).astype(dtype)
        try:
            raw = session.run([output_name], {input_name: tensor})[0]
            output = np.asarray(raw, dtype=np.float64).ravel()
        except Exception as exc:  # onnxruntime raises its own types
            raise ModelOutputError(f"onnx model {card.name} failed: {exc}") from exc
        if not np.all(np.isfinite(output)):
            raise ModelOutputError(f"onnx model {card.name}: output is not finite")
        self._last = (weakref.ref(subject), output)
        return output

    def _probability(self, output: np.ndarray) -> float:
        spec = t.cast(ModelCard, self.card).output
        index = t.cast(int, spec.index)
        if index >= output.size:
            raise ModelOutputError(
                f"onnx: output index {index} is past the model's {output.size} values"
            )
        if spec.activation is Activation.SOFTMAX:
            shifted = np.exp(output - output.max())
            value = float(shifted[index] / shifted.sum())
        elif spec.activation is Activation.SIGMOID:
            x = float(output[index])  # the stable form: no overflow either side
            e = math.exp(-abs(x))
            value = 1 / (1 + e) if x >= 0 else e / (1 + e)
        else:
            value = float(output[index])
            if not 0.0 <= value <= 1.0:
                raise ModelOutputError(f"onnx: output {value} is not a probability")
        return min(max(value, 0.0), 1.0)  # float rounding at the ends

    def _session_for(self) -> tuple[t.Any, str, str, type[np.floating[t.Any]]]:
        with self._lock:
            if self._failure is not None:  # a fresh refusal per item, same message
                raise type(self._failure)(self._failure.message)
            if self._session is None and self.card is not None:
                try:
                    self._session = _open_session(self)
                except MediaError as exc:
                    self._failure = exc
                    raise
            return t.cast(
                "tuple[t.Any, str, str, type[np.floating[t.Any]]]", self._session
            )


def preprocess(image: Image.Image, card: ModelCard) -> np.ndarray:
    """The model's input tensor (float32, batch of one) from an RGB image."""
    spec = card.input
    target = (spec.width_px, spec.height_px)
    resample = _RESAMPLE[spec.resample]
    image = image.convert("RGB")
    if spec.crop is Crop.CENTRE_CROP:
        width, height = image.size
        scale = max(target[0] / width, target[1] / height)
        scaled = (
            max(target[0], round(width * scale)),
            max(target[1], round(height * scale)),
        )
        if scaled != image.size:
            image = image.resize(scaled, resample)
        left, top = (scaled[0] - target[0]) // 2, (scaled[1] - target[1]) // 2
        image = image.crop((left, top, left + target[0], top + target[1]))
    elif image.size != target:
        image = image.resize(target, resample)
    array: np.ndarray = np.asarray(image, dtype=np.float32)  # height, width, RGB
    if spec.channels is ChannelOrder.BGR:
        array = array[..., ::-1]
    # mean and std in pixel units: (x / 255 - m) / s == (x - 255 m) / (255 s)
    unit = np.float32(1.0 if spec.value_range is ValueRange.BYTE else 255.0)
    mean = np.asarray(spec.mean, np.float32) * unit
    std = np.asarray(spec.std, np.float32) * unit
    array = (array - mean) / std
    if spec.layout is Layout.NCHW:
        array = array.transpose(2, 0, 1)
    return np.ascontiguousarray(array[np.newaxis], dtype=np.float32)


def _feature_names(card: ModelCard | None) -> tuple[str, ...]:
    if card is None:
        return ()
    if card.output.kind is OutputKind.PROBABILITY_AI:
        return ("probability_ai",)
    return tuple(f"embedding_{i}" for i in range(t.cast(int, card.output.dim)))


def _open_session(detector: ONNXDetector) -> tuple[t.Any, str, str, t.Any]:
    """A CPU session for the detector's model, with the names and element type of
    the input and output its card describes."""
    card = t.cast(ModelCard, detector.card)
    path = t.cast(pathlib.Path, detector.model_path)
    try:
        ort = import_optional("onnxruntime", extra="ml")
    except MissingDependencyError as exc:
        raise DependencyMissingError(str(exc)) from exc
    content = _read_model(path, card)
    options = ort.SessionOptions()
    options.intra_op_num_threads = detector.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only; refusals carry the message
    try:
        session = ort.InferenceSession(
            content, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own types
        raise ModelUnavailableError(f"onnx model {path} does not load: {exc}") from exc
    input_name, dtype = _check_input(session, card)
    output_name = _check_output(session, card)
    return session, input_name, output_name, dtype


def _read_model(path: pathlib.Path, card: ModelCard) -> bytes:
    """The model's bytes, within the size limit, matching the card's digest."""
    try:
        if not path.is_file():
            raise ModelUnavailableError(f"onnx model {path} is missing")
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise ModelUnavailableError(
                f"onnx model {path} is over the {MAX_MODEL_BYTES}-byte limit"
            )
        content = path.read_bytes()
    except OSError as exc:
        raise ModelUnavailableError(f"onnx model {path} cannot be read: {exc}") from exc
    if card.model_sha256 is not None:
        digest = hashlib.sha256()
        for start in range(0, len(content), _HASH_CHUNK_BYTES):
            digest.update(content[start : start + _HASH_CHUNK_BYTES])
        if digest.hexdigest() != card.model_sha256:
            raise ModelUnavailableError(
                f"onnx model {path} does not match the card's model_sha256"
            )
    return content


def _check_input(session: t.Any, card: ModelCard) -> tuple[str, t.Any]:
    spec = card.input
    inputs = list(session.get_inputs())
    named = [i for i in inputs if spec.name is None or i.name == spec.name]
    if len(named) != 1:
        names = ", ".join(i.name for i in inputs)
        wanted = spec.name or "one input"
        raise ModelInputError(f"onnx model {card.name}: wants {wanted}, has {names}")
    node = named[0]
    dtype = _FLOAT_TYPES.get(node.type)
    if dtype is None:
        raise ModelInputError(
            f"onnx model {card.name}: input {node.name} is {node.type}, not float"
        )
    h, w = spec.height_px, spec.width_px
    expected = [1, 3, h, w] if spec.layout is Layout.NCHW else [1, h, w, 3]
    shape = list(node.shape)
    fits = len(shape) == 4 and all(
        not isinstance(d, int) or d == e for d, e in zip(shape, expected, strict=True)
    )
    if not fits:
        raise ModelInputError(
            f"onnx model {card.name}: input {node.name} has shape {shape}; the card "
            f"gives {expected} ({spec.layout.value})"
        )
    return node.name, dtype


def _check_output(session: t.Any, card: ModelCard) -> str:
    spec = card.output
    outputs = list(session.get_outputs())
    named = [o for o in outputs if spec.name is None or o.name == spec.name]
    if not named:
        names = ", ".join(o.name for o in outputs)
        raise ModelOutputError(f"onnx model {card.name}: no {spec.name}: {names}")
    node = named[0]
    shape = list(node.shape)
    if all(isinstance(d, int) for d in shape):
        size = int(np.prod(shape))
        if spec.kind is OutputKind.EMBEDDING and size != spec.dim:
            raise ModelOutputError(
                f"onnx model {card.name}: output {node.name} has {size} values, "
                f"the card's embedding has {spec.dim}"
            )
        if spec.index is not None and spec.index >= size:
            raise ModelOutputError(
                f"onnx model {card.name}: output index {spec.index} is past the "
                f"{size} values of {node.name}"
            )
    return str(node.name)
