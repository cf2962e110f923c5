"""Model formats are decided by content, never by file name."""

import importlib.util
import io
import json
import pathlib
import pickle
import struct
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_builders import safetensors_bytes, state_dict_pickle, torch_zip_bytes

from helpers import image_bytes
from vigil.media.errors import FileVanishedError
from vigil.modelfiles.base import ModelFormat
from vigil.modelfiles.sniff import (
    is_diffusers_folder,
    sniff_model_bytes,
    sniff_model_path,
    sniff_model_stream,
)


def onnx_bytes() -> bytes:
    """The first fields of an ONNX ModelProto, protobuf-encoded by hand."""

    def text(field: int, value: bytes) -> bytes:
        return bytes([field << 3 | 2, len(value)]) + value

    graph = text(1, b"node") + text(2, b"main_graph")  # a stand-in GraphProto body
    return (
        b"\x08\x08"  # ir_version = 8
        + text(2, b"pytorch")
        + text(3, b"2.1.0")
        + bytes([7 << 3 | 2, len(graph)])
        + graph
        + b"\x42\x04\x10\x11\x00\x00"  # opset_import
    )


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


CASES = {
    "safetensors": (safetensors_bytes(metadata={"a": "b"}), ModelFormat.SAFETENSORS),
    "pytorch_zip": (torch_zip_bytes(state_dict_pickle(["w"])), ModelFormat.PYTORCH_ZIP),
    "gguf": (b"GGUF" + struct.pack("<IQQ", 3, 0, 0), ModelFormat.GGUF),
    "onnx": (onnx_bytes(), ModelFormat.ONNX),
    "plain_zip": (plain_zip(), ModelFormat.UNKNOWN),
    "png": (image_bytes(1), ModelFormat.UNKNOWN),
    "text": (b"hello world, this is a text file\n" * 20, ModelFormat.UNKNOWN),
    "json": (json.dumps({"_class_name": "X"}).encode(), ModelFormat.UNKNOWN),
    "gguf_future_version": (b"GGUF" + struct.pack("<I", 99), ModelFormat.UNKNOWN),
    "empty": (b"", ModelFormat.UNKNOWN),
}
CASES |= {
    f"pickle_protocol_{p}": (
        pickle.dumps({"w": [1.5, 2]}, protocol=p),
        ModelFormat.PICKLE,
    )
    for p in range(pickle.HIGHEST_PROTOCOL + 1)
}


@pytest.mark.parametrize("name", CASES)
def test_formats_by_content(name: str) -> None:
    data, expected = CASES[name]
    assert sniff_model_stream(io.BytesIO(data)) is expected


@pytest.mark.parametrize("name", ["pickle_protocol_0", "pytorch_zip", "gguf"])
def test_extensions_do_not_matter(tmp_path: pathlib.Path, name: str) -> None:
    data, expected = CASES[name]
    path = tmp_path / "innocent.safetensors"
    path.write_bytes(data)
    assert sniff_model_path(path) is expected


def test_long_protocol_0_pickle_cut_at_the_sniff_window() -> None:
    data = pickle.dumps([f"value {i}" for i in range(2000)], protocol=0)
    assert len(data) > 4096
    assert sniff_model_stream(io.BytesIO(data)) is ModelFormat.PICKLE


def test_truncated_torch_zip_is_still_a_checkpoint() -> None:
    data, _ = CASES["pytorch_zip"]
    assert (
        sniff_model_stream(io.BytesIO(data[: len(data) // 2]))
        is ModelFormat.PYTORCH_ZIP
    )


def test_a_zip_is_unknown_from_its_head_alone() -> None:
    data, _ = CASES["pytorch_zip"]
    assert sniff_model_bytes(data[:4096]) is ModelFormat.UNKNOWN


def test_diffusers_folder(tmp_path: pathlib.Path) -> None:
    (tmp_path / "model_index.json").write_text(
        json.dumps({"_class_name": "StableDiffusionPipeline", "unet": ["x", "y"]})
    )
    assert is_diffusers_folder(tmp_path)
    assert sniff_model_path(tmp_path) is ModelFormat.DIFFUSERS
    (tmp_path / "model_index.json").write_text("{not json")
    assert sniff_model_path(tmp_path) is ModelFormat.UNKNOWN
    assert sniff_model_path(tmp_path / "..") is ModelFormat.UNKNOWN


def test_missing_path(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileVanishedError):
        sniff_model_path(tmp_path / "gone.bin")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_heads_never_raise(head: bytes) -> None:
    assert isinstance(sniff_model_bytes(head, len(head)), ModelFormat)


def test_text_that_starts_like_a_global_is_not_a_pickle() -> None:
    # A pip RECORD file: every line reads as a GLOBAL opcode with a path as its name.
    lines = [f"cryptography/mod{i}.py,sha256=abc{i},{i}\n" for i in range(300)]
    assert (
        sniff_model_stream(io.BytesIO("".join(lines).encode())) is ModelFormat.UNKNOWN
    )


def test_real_onnx_files_from_an_installed_dependency() -> None:
    # invisible-watermark ships its RivaGAN models as ONNX files.
    spec = importlib.util.find_spec("imwatermark")
    if spec is None or spec.origin is None:
        pytest.skip("invisible-watermark is not installed")
    models = sorted(pathlib.Path(spec.origin).parent.glob("*.onnx"))
    if not models:
        pytest.skip("this invisible-watermark release ships no ONNX files")
    assert {sniff_model_path(path) for path in models} == {ModelFormat.ONNX}
