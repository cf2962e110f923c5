"""The ONNX detector: tiny models built here with onnx.helper, their cards, and
probabilities and features checked against hand computations."""

import importlib.util
import io
import json
import pathlib
import pickle
import typing as t

import numpy as np
import pytest
from PIL import Image

from vigil import _optional
from vigil.detection import onnx as onnx_module
from vigil.detection._modelcard import MAX_CARD_BYTES, read_card
from vigil.detection.base import DetectionInput, FeatureDetector
from vigil.detection.onnx import (
    ModelInputError,
    ModelOutputError,
    ModelUnavailableError,
    ONNXDetector,
)
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import DependencyMissingError, MediaError
from vigil.media.subject import Subject
from vigil.pipeline.stage import StageContext
from vigil.pipeline.stages.detect import DetectStage

MissingDependencyError = _optional.MissingDependencyError
_HAS_ORT = importlib.util.find_spec("onnxruntime") is not None
needs_onnxruntime = pytest.mark.skipif(
    not _HAS_ORT or importlib.util.find_spec("onnx") is None,
    reason="onnxruntime (the `ml` extra) and onnx (dev group) are not installed",
)
FACTS = DetectionInput()
RGB = (200, 100, 50)
MEAN = [0.5, 0.4, 0.3]
STD = [0.2, 0.25, 0.5]
#: Gemm weights (3 channels -> 2 logits) and bias of the test classifier.
W2 = np.array([[1.0, -1.0], [0.5, 2.0], [-2.0, 0.25]], dtype=np.float32)
B2 = np.array([0.1, -0.2], dtype=np.float32)
#: MatMul weights (3 channels -> 4 values) of the test embedder.
W4 = np.array(
    [[1.0, 0.0, 0.5, -1.0], [0.0, 1.0, 0.5, 2.0], [0.0, 0.0, 1.0, 0.5]],
    dtype=np.float32,
)


def _subject(image: Image.Image) -> Subject:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return Subject(buffer.getvalue(), MediaKind.PNG, Limits())


def _solid(colour: tuple[int, int, int] = RGB, size: int = 16) -> Subject:
    return _subject(Image.new("RGB", (size, size), colour))


def _normalised(
    colour: t.Sequence[float],
    mean: t.Sequence[float] = MEAN,
    std: t.Sequence[float] = STD,
    unit: float = 255.0,
) -> np.ndarray:
    return (np.asarray(colour, np.float64) / unit - mean) / std


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return t.cast(np.ndarray, e / e.sum())


def _model(
    path: pathlib.Path,
    *,
    head: str = "softmax",
    layout: str = "nchw",
    shape: t.Sequence[int | str] | None = None,
    channels: int = 3,
) -> pathlib.Path:
    """Input -> GlobalAveragePool -> Flatten -> Gemm (2 logits) [-> Softmax], or
    MatMul to a 4-vector for head="embedding"."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    side = 8
    if shape is None:
        shape = (
            [1, channels, side, side] if layout == "nchw" else [1, side, side, channels]
        )
    nodes = []
    pooled_from = "pixels"
    if layout == "nhwc":
        nodes.append(
            helper.make_node("Transpose", ["pixels"], ["nchw"], perm=[0, 3, 1, 2])
        )
        pooled_from = "nchw"
    nodes += [
        helper.make_node("GlobalAveragePool", [pooled_from], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
    ]
    initialisers = []
    if head == "embedding":
        initialisers.append(numpy_helper.from_array(W4[:channels], "w"))
        nodes.append(helper.make_node("MatMul", ["flat", "w"], ["out"]))
        out_shape = [1, 4]
    else:
        initialisers += [
            numpy_helper.from_array(W2[:channels], "w"),
            numpy_helper.from_array(B2, "b"),
        ]
        logits = "out" if head == "logits" else "logits"
        nodes.append(helper.make_node("Gemm", ["flat", "w", "b"], [logits]))
        if head == "softmax":
            nodes.append(helper.make_node("Softmax", ["logits"], ["out"], axis=1))
        out_shape = [1, 2]
    graph = helper.make_graph(
        nodes,
        "vigil_test",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, out_shape)],
        initialisers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def _card(path: pathlib.Path, **changes: t.Any) -> pathlib.Path:
    document: dict[str, t.Any] = {
        "format": "vigil.onnx_card/1",
        "name": "tiny_test",
        "input": {
            "size": [8, 8],
            "layout": "nchw",
            "channels": "rgb",
            "value_range": "0-1",
            "mean": MEAN,
            "std": STD,
            "crop": "resize",
        },
        "output": {"kind": "probability_ai", "activation": "none", "index": 1},
    }
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            document[section][field] = value
        else:
            document[section] = value
    path.write_text(json.dumps(document))
    return path


def _detector(tmp_path: pathlib.Path, *, model: dict[str, t.Any] | None = None,
              **card: t.Any) -> ONNXDetector:  # fmt: skip
    model_path = _model(tmp_path / "tiny.onnx", **(model or {}))
    return ONNXDetector(model=model_path, card=_card(tmp_path / "card.json", **card))


def test_no_model_has_no_view() -> None:
    detector = ONNXDetector()
    assert isinstance(detector, FeatureDetector)
    assert detector.name == "onnx"
    assert detector.detect(_solid(), FACTS).probability is None
    assert detector.features(_solid(), FACTS) == ()
    assert detector.feature_names == ()


@needs_onnxruntime
@pytest.mark.parametrize(
    ("head", "activation", "expected"),
    [
        ("softmax", "none", lambda logits: _softmax(logits)[1]),
        ("logits", "softmax", lambda logits: _softmax(logits)[1]),
        ("logits", "sigmoid", lambda logits: 1 / (1 + np.exp(-logits[1]))),
    ],
)
def test_probability_equals_hand_computation(
    tmp_path: pathlib.Path,
    head: str,
    activation: str,
    expected: t.Callable[[np.ndarray], float],
) -> None:
    detector = _detector(tmp_path, model={"head": head}, output__activation=activation)
    logits = _normalised(RGB) @ W2 + B2
    found = detector.detect(_solid(), FACTS)
    assert found.probability == pytest.approx(expected(logits), abs=1e-5)
    assert found.reasons == (f"onnx model tiny_test: P(AI) {found.probability:.3f}",)
    assert detector.feature_names == ("probability_ai",)
    assert detector.features(_solid(), FACTS) == pytest.approx((found.probability,))


@needs_onnxruntime
def test_channel_order_and_mean_std_are_applied(tmp_path: pathlib.Path) -> None:
    (tmp_path / "rgb").mkdir()
    (tmp_path / "bgr").mkdir()
    rgb = _detector(tmp_path / "rgb")
    bgr = _detector(tmp_path / "bgr", input__channels="bgr")
    p_rgb = rgb.detect(_solid(), FACTS).probability
    p_bgr = bgr.detect(_solid(), FACTS).probability
    assert p_rgb == pytest.approx(_softmax(_normalised(RGB) @ W2 + B2)[1], abs=1e-5)
    # the model reads blue first: mean and std stay in the model's channel order
    swapped = _normalised(RGB[::-1]) @ W2 + B2
    assert p_bgr == pytest.approx(_softmax(swapped)[1], abs=1e-5)
    assert abs(t.cast(float, p_rgb) - t.cast(float, p_bgr)) > 0.01


@needs_onnxruntime
def test_byte_value_range_and_nhwc_layout(tmp_path: pathlib.Path) -> None:
    detector = _detector(
        tmp_path,
        model={"layout": "nhwc"},
        input__layout="nhwc",
        input__value_range="0-255",
        input__mean=[127.5, 127.5, 127.5],
        input__std=[64.0, 64.0, 64.0],
    )
    x = _normalised(RGB, [127.5] * 3, [64.0] * 3, unit=1.0)
    expected = _softmax(x @ W2 + B2)[1]
    assert detector.detect(_solid(), FACTS).probability == pytest.approx(
        expected, abs=1e-5
    )


@needs_onnxruntime
def test_embedding_outputs_become_features(tmp_path: pathlib.Path) -> None:
    detector = _detector(
        tmp_path, model={"head": "embedding"}, output={"kind": "embedding", "dim": 4}
    )
    assert detector.feature_names == tuple(f"embedding_{i}" for i in range(4))
    features = detector.features(_solid(), FACTS)
    assert len(features) == 4
    assert features == pytest.approx(tuple(_normalised(RGB) @ W4), abs=1e-5)
    assert detector.detect(_solid(), FACTS).probability is None  # features only


@needs_onnxruntime
@pytest.mark.parametrize(
    ("crop", "is_blue"), [("centre_crop", True), ("resize", False)]
)
def test_centre_crop_cuts_the_middle_and_resize_keeps_all(
    tmp_path: pathlib.Path, crop: str, is_blue: bool
) -> None:
    image = Image.new("RGB", (16, 8), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 4, 8))  # a red band in the left quarter
    detector = _detector(
        tmp_path,
        model={"head": "embedding"},
        output={"kind": "embedding", "dim": 4},
        input__crop=crop,
    )
    blue = tuple(_normalised((0, 0, 255)) @ W4)
    features = detector.features(_subject(image), FACTS)
    assert (features == pytest.approx(blue, abs=1e-5)) is is_blue


@needs_onnxruntime
def test_card_beside_the_model_is_found(tmp_path: pathlib.Path) -> None:
    model = _model(tmp_path / "detector.onnx")
    _card(tmp_path / "detector.card.json")
    assert ONNXDetector(model=str(model)).card is not None
    model.with_name("detector.card.json").unlink()
    with pytest.raises(ValueError, match=r"detector\.card\.json"):
        ONNXDetector(model=model)


@needs_onnxruntime
def test_detector_pickles_before_and_after_first_use(tmp_path: pathlib.Path) -> None:
    detector = _detector(tmp_path)
    fresh = pickle.loads(pickle.dumps(detector))  # noqa: S301 - our own object
    expected = detector.detect(_solid(), FACTS).probability
    used = pickle.loads(pickle.dumps(detector))  # noqa: S301 - our own object
    assert used._session is None  # never pickled: made again in the new process
    assert fresh.detect(_solid(), FACTS).probability == expected
    assert used.detect(_solid(), FACTS).probability == expected
    assert used.feature_names == detector.feature_names


@needs_onnxruntime
@pytest.mark.parametrize(
    ("model", "card", "error", "message"),
    [
        ({}, {"input__size": [16, 16]}, ModelInputError, r"shape \[1, 3, 8, 8\]"),
        ({}, {"input__layout": "nhwc"}, ModelInputError, "shape"),
        ({"channels": 1}, {}, ModelInputError, "shape"),
        ({"shape": [1, 3, 8]}, {}, ModelInputError, "shape"),
        ({}, {"input__name": "image"}, ModelInputError, "wants image"),
        ({}, {"output__index": 2}, ModelOutputError, "index 2"),
        (
            {"head": "embedding"},
            {"output": {"kind": "embedding", "dim": 5}},
            ModelOutputError,
            "has 4 values",
        ),  # fmt: skip
        ({}, {"model_sha256": "0" * 64}, ModelUnavailableError, "model_sha256"),
    ],
)
def test_model_that_does_not_fit_its_card_is_a_typed_refusal(
    tmp_path: pathlib.Path,
    model: dict[str, t.Any],
    card: dict[str, t.Any],
    error: type[MediaError],
    message: str,
) -> None:
    detector = _detector(tmp_path, model=model, **card)
    for _ in range(2):  # the same refusal for every item, the model tried once
        with pytest.raises(error, match=message) as caught:
            detector.features(_solid(), FACTS)
        assert caught.value.reason.startswith("detector_model_")


@needs_onnxruntime
def test_dynamic_input_sides_take_any_card_size(tmp_path: pathlib.Path) -> None:
    detector = _detector(
        tmp_path, model={"shape": ["batch", 3, "h", "w"]}, input__size=[12, 20]
    )
    expected = _softmax(_normalised(RGB) @ W2 + B2)[1]
    assert detector.detect(_solid(), FACTS).probability == pytest.approx(
        expected, abs=1e-5
    )


@needs_onnxruntime
def test_a_file_that_is_not_a_model_is_refused_in_the_scan(
    tmp_path: pathlib.Path,
) -> None:
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not a protobuf at all")
    detector = ONNXDetector(model=model, card=_card(tmp_path / "card.json"))
    with pytest.raises(ModelUnavailableError, match="does not load") as caught:
        detector.detect(_solid(), FACTS)
    assert caught.value.reason == "detector_model_unavailable"
    model.unlink()  # gone after configuration: still a refusal, not a traceback
    with pytest.raises(ModelUnavailableError):
        pickle.loads(pickle.dumps(detector)).load()  # noqa: S301 - our own object


def test_configuration_errors_are_value_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="card was given without a model"):
        ONNXDetector(card=tmp_path / "card.json")
    with pytest.raises(ValueError, match="is not a file"):
        ONNXDetector(model=tmp_path / "missing.onnx")
    (tmp_path / "m.onnx").write_bytes(b"x")
    with pytest.raises(ValueError, match="threads"):
        ONNXDetector(model=tmp_path / "m.onnx", threads=0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "expected an object"),
        ('{"format": "vigil.onnx_card/1", "format": "x"}', "appears twice"),
        ('{"format": "other/1", "input": {}, "output": {}}', "format"),
        ('{"format": "vigil.onnx_card/1"}', "missing input, output"),
    ],
)
def test_card_text_that_is_not_a_card_is_refused(
    tmp_path: pathlib.Path, text: str, message: str
) -> None:
    path = tmp_path / "card.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_card(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"input__layout": "chw"}, "input.layout"),
        ({"input__channels": "grb"}, "input.channels"),
        ({"input__value_range": "0-65535"}, "input.value_range"),
        ({"input__crop": "pad"}, "input.crop"),
        ({"input__size": [224]}, r"input.size: expected \[height, width\]"),
        ({"input__size": [0, 224]}, r"input.size\[0\]"),
        ({"input__size": [224, 100_000]}, r"input.size\[1\]"),
        ({"input__size": [True, 224]}, "expected an integer"),
        ({"input__mean": [0.5, 0.5]}, "input.mean: expected 3 numbers"),
        ({"input__std": [0.5, 0.0, 0.5]}, "input.std: every value"),
        ({"input__std": [0.5, "x", 0.5]}, "expected numbers"),
        ({"input__extra": 1}, "unknown key extra"),
        ({"output": {"kind": "logits"}}, "output.kind"),
        ({"output__activation": "relu"}, "output.activation"),
        ({"output__index": -1}, "output.index"),
        ({"output": {"kind": "embedding"}}, "missing dim"),
        ({"output": {"kind": "embedding", "dim": 0}}, "output.dim"),
        ({"output": {"kind": "embedding", "dim": 4, "index": 1}}, "unknown key index"),
        ({"name": "Has Spaces"}, "name"),
        ({"model_sha256": "abc"}, "model_sha256"),
    ],
)
def test_bad_card_values_are_refused_with_the_key_named(
    tmp_path: pathlib.Path, changes: dict[str, t.Any], message: str
) -> None:
    path = _card(tmp_path / "card.json", **changes)
    with pytest.raises(ValueError, match=message):
        read_card(path)


def test_card_limits(tmp_path: pathlib.Path) -> None:
    path = _card(tmp_path / "card.json")
    card = read_card(path)
    assert (card.input.height_px, card.input.width_px) == (8, 8)
    assert card.input.mean == tuple(MEAN)
    big = tmp_path / "big.json"
    big.write_text(" " * (MAX_CARD_BYTES + 1))
    with pytest.raises(ValueError, match="over"):
        read_card(big)
    nan = tmp_path / "nan.json"
    nan.write_text(path.read_text().replace("0.2", "NaN"))
    with pytest.raises(ValueError, match="NaN"):
        read_card(nan)
    with pytest.raises(ValueError, match="missing or not a regular file"):
        read_card(tmp_path)


def test_missing_onnxruntime_names_the_extra(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    card = _card(tmp_path / "card.json")
    detector = ONNXDetector(model=model, card=card) if _HAS_ORT else None
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *rest: None if name == "onnxruntime" else real(name, *rest),
    )
    with pytest.raises(MissingDependencyError, match=r"vigil\[ml\]"):
        ONNXDetector(model=model, card=card)
    if detector is not None:  # configured where it was installed, run where it is not

        def missing(module: str, *, extra: str) -> t.NoReturn:
            raise MissingDependencyError(module, extra)

        monkeypatch.setattr(onnx_module, "import_optional", missing)
        with pytest.raises(DependencyMissingError, match=r"vigil\[ml\]"):
            detector.detect(_solid(), FACTS)


@needs_onnxruntime
def test_detect_stage_scores_it_and_records_refusals(tmp_path: pathlib.Path) -> None:
    detector = _detector(tmp_path)
    result = DetectStage([detector]).run(_solid(), StageContext(Limits()))
    expected = _softmax(_normalised(RGB) @ W2 + B2)[1]
    assert [s.name for s in result.scores] == ["ai_likelihood"]
    assert result.scores[0].value == pytest.approx(expected, abs=1e-5)
    (tmp_path / "tiny.onnx").write_bytes(b"corrupt")
    broken = ONNXDetector(model=tmp_path / "tiny.onnx", card=tmp_path / "card.json")
    result = DetectStage([broken]).run(_solid(), StageContext(Limits()))
    assert result.scores == ()
    assert [e.reason for e in result.errors] == ["detector_model_unavailable"]
