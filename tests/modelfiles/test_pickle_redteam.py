"""Red-team cases for the pickle scanner: pickles without a PROTO header, the
picklescan denylist (GHSA gadgets), dotted names, pickles inside containers, and
oversized lengths. Every file is assembled here and only read, never loaded."""

import bz2
import gzip
import io
import lzma
import pathlib
import pickletools
import struct
import tarfile
import typing as t
import zipfile
import zlib

import pytest
from model_builders import op_global, op_short_str, state_dict_pickle

from vigil.modelfiles._globals import GlobalVerdict, classify
from vigil.modelfiles.base import ModelFormat
from vigil.modelfiles.pickles import scan_pickle_bytes
from vigil.modelfiles.report import ModelReport
from vigil.modelfiles.scan import inspect_model
from vigil.modelfiles.sniff import sniff_model_bytes, sniff_model_stream

_CALL = b"(S'id'\ntR."  # MARK, a string, TUPLE, REDUCE, STOP: one call of the global

# Streams `pickle.loads` accepts that open with neither PROTO 2+ nor `(}])c`.
HEADERLESS = {
    "proto_1": b"\x80\x01" + op_global("posix", "system") + _CALL,
    "proto_0": b"\x80\x00" + op_global("posix", "system") + _CALL,
    "none_pop": b"N0" + op_global("posix", "system") + _CALL,
    "int_pop": b"I7\n0" + op_global("os", "system") + _CALL,
    "binint1_pop": b"K\x010" + op_global("subprocess", "getoutput") + _CALL,
    "stack_global_no_proto": op_short_str("posix")
    + op_short_str("system")
    + b"\x93"
    + op_short_str("id")
    + b"\x85R.",
    "unicode_pop": b"Vx\n0" + op_global("builtins", "exec") + _CALL,
}
EXTENSIONS = (".bin", ".pt", ".pkl", ".ckpt", ".npy", ".joblib", ".data")


def _proto(data: bytes, protocol: int = 2) -> bytes:
    return b"\x80" + bytes([protocol]) + data


def dangerous_pickle(module: str = "posix", name: str = "system") -> bytes:
    return _proto(op_global(module, name) + _CALL)


@pytest.mark.parametrize("name", sorted(HEADERLESS))
def test_headerless_streams_are_real_pickles(name: str) -> None:
    # pickletools reads opcodes without executing them: each stream is well formed.
    pickletools.dis(HEADERLESS[name], out=io.StringIO())


@pytest.mark.parametrize("name", sorted(HEADERLESS))
def test_headerless_pickles_sniff_as_pickles(name: str) -> None:
    data = HEADERLESS[name]
    assert sniff_model_bytes(data, len(data)) is ModelFormat.PICKLE


@pytest.mark.parametrize("extension", EXTENSIONS)
@pytest.mark.parametrize("name", sorted(HEADERLESS))
def test_headerless_pickles_are_dangerous_whatever_the_extension(
    tmp_path: pathlib.Path, name: str, extension: str
) -> None:
    path = tmp_path / f"model{extension}"
    path.write_bytes(HEADERLESS[name])
    report = inspect_model(path)
    assert report.format is ModelFormat.PICKLE
    assert report.pickle is not None
    assert report.pickle.verdict is GlobalVerdict.DANGEROUS


def test_text_is_still_not_a_pickle() -> None:
    for text in (b"Vigil notes\nsecond line\n", b"N0 is not a pickle", b"I am text\n"):
        assert sniff_model_bytes(text, len(text)) is ModelFormat.UNKNOWN


# What picklescan flags (src/picklescan/scanner.py `_unsafe_globals`), with the GHSA
# advisories' gadgets from its tests.
PICKLESCAN_GLOBALS = [
    ("idlelib.pyshell", "ModifiedInterpreter.runcode"),
    ("idlelib.run", "Executive.runcode"),
    ("idlelib.autocomplete", "AutoComplete.fetch_completions"),
    ("idlelib.calltip", "get_entity"),
    ("idlelib.debugobj", "ObjectTreeItem.SetText"),
    ("lib2to3.pgen2.grammar", "Grammar.loads"),
    ("lib2to3.pgen2.pgen", "ParserGenerator.make_label"),
    ("doctest", "debug_script"),
    ("ensurepip", "_run_pip"),
    ("pkgutil", "resolve_name"),
    ("uuid", "_get_command_stdout"),
    ("imaplib", "IMAP4_stream"),
    ("torch.utils.bottleneck.__main__", "run_cprofile"),
    ("torch.utils.bottleneck.__main__", "run_autograd_prof"),
    ("torch.utils.collect_env", "run"),
    ("torch._dynamo.guards", "GuardBuilder.get"),
    ("torch._inductor.codecache", "compile_file"),
    ("torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression"),
    ("torch.jit.unsupported_tensor_ops", "execWrapper"),
    ("torch.utils._config_module", "ConfigModule.load_config"),
    ("torch.utils.data.datapipes.utils.decoder", "basichandlers"),
    ("io", "FileIO"),
    ("_io", "FileIO"),
    ("logging", "FileHandler"),
    ("venv", "create"),
    ("aiohttp", "request"),
    ("aiohttp.client", "ClientSession"),
    ("py_compile", "main"),
    ("compileall", "compile_file"),
    ("functools", "partial"),
    ("operator", "itemgetter"),
    ("_operator", "itemgetter"),
    ("ssl", "get_server_certificate"),
    ("numpy.f2py", "getlincoef"),
    ("numpy.testing._private.utils", "runstring"),
    ("cloudpickle.cloudpickle", "_make_function"),
    ("types", "CodeType"),
    ("code", "InteractiveInterpreter.runcode"),
    ("cProfile", "run"),
    ("profile", "Profile.run"),
    ("trace", "Trace.runctx"),
    ("distutils.file_util", "write_file"),
    ("test.support.script_helper", "assert_python_ok"),
    ("urllib.request", "urlopen"),
    ("requests.api", "get"),
    ("httplib", "HTTPSConnection"),
    ("_osx_support", "_read_output"),
    ("_aix_support", "_read_cmd_output"),
    ("_pyrepl.pager", "pipe_pager"),
    ("webbrowser", "open"),
    ("pty", "spawn"),
    ("timeit", "timeit"),
    ("pydoc", "locate"),
]


@pytest.mark.parametrize(("module", "name"), PICKLESCAN_GLOBALS)
def test_picklescan_globals_are_dangerous(module: str, name: str) -> None:
    assert classify(module, name) is GlobalVerdict.DANGEROUS


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("sklearn.linear_model", "LogisticRegression"),
        ("torch.nn.modules.linear", "Linear"),
        ("collections", "OrderedDict.fromkeys"),
        ("builtins", "list.append"),
        ("iopath", "FileIO"),  # a name prefix of `io` is not `io`
    ],
)
def test_unknown_globals_stay_unknown(module: str, name: str) -> None:
    assert classify(module, name) is GlobalVerdict.UNKNOWN


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("builtins", "eval.__call__"),
        ("__builtin__", "exec.__call__"),
        ("builtins", "getattr.__self__"),
        ("operator", "methodcaller.func"),
        ("logging", "FileHandler.emit"),
        ("pkgutil", "resolve_name.cache"),
        ("torch.serialization", "load.func"),
        ("torch.nn.modules.module", "torch.cuda._memory_viz.subprocess.Popen"),
        ("mypkg", "os.system"),
    ],
)
def test_dotted_names_match_the_entry_of_their_first_name(
    module: str, name: str
) -> None:
    assert classify(module, name) is GlobalVerdict.DANGEROUS


def test_dotted_builtin_in_a_pickle_is_dangerous() -> None:
    data = b"\x80\x04" + op_short_str("builtins") + op_short_str("eval.__call__")
    data += b"\x93" + op_short_str("1") + b"\x85R."
    assert scan_pickle_bytes(data).verdict is GlobalVerdict.DANGEROUS


# Containers


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _tar(members: dict[str, bytes], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _npy(payload: bytes, descr: str = "|O") -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}"
    raw = header.encode("latin-1")
    raw += b" " * (-(10 + len(raw) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(raw)) + raw + payload


def _inspect(tmp_path: pathlib.Path, name: str, data: bytes) -> ModelReport:
    path = tmp_path / name
    path.write_bytes(data)
    return inspect_model(path)


def test_plain_zip_members_are_walked_whatever_their_names(
    tmp_path: pathlib.Path,
) -> None:
    data = _zip({"readme.txt": b"notes\n", "weights/model.bin": dangerous_pickle()})
    report = _inspect(tmp_path, "weights.zip", data)
    assert report.format is ModelFormat.ARCHIVE
    assert report.pickle is not None
    assert report.pickle.verdict is GlobalVerdict.DANGEROUS
    assert report.details["pickle_members"] == ["weights/model.bin"]


def test_plain_zip_of_benign_state_dict_is_not_dangerous(
    tmp_path: pathlib.Path,
) -> None:
    data = _zip({"blob": state_dict_pickle(["w"])})
    report = _inspect(tmp_path, "model.zip", data)
    assert report.format is ModelFormat.ARCHIVE
    assert report.pickle is not None
    assert report.pickle.verdict is GlobalVerdict.SAFE


def test_zip_without_pickles_stays_unknown() -> None:
    data = _zip({"a.txt": b"hello\n", "b.png": b"\x89PNG\r\n\x1a\n"})
    assert sniff_model_stream(io.BytesIO(data)) is ModelFormat.UNKNOWN


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:xz"])
def test_tar_members_are_walked(tmp_path: pathlib.Path, mode: str) -> None:
    data = _tar({"docs/a.txt": b"x\n", "ckpt/model.pt": HEADERLESS["none_pop"]}, mode)
    report = _inspect(tmp_path, "bundle.tar", data)
    assert report.format is ModelFormat.ARCHIVE
    assert report.pickle is not None
    assert report.pickle.verdict is GlobalVerdict.DANGEROUS
    assert report.details["pickle_members"] == ["ckpt/model.pt"]


def test_npy_object_array_pickle_is_walked(tmp_path: pathlib.Path) -> None:
    report = _inspect(tmp_path, "array.npy", _npy(dangerous_pickle()))
    assert report.format is ModelFormat.NUMPY
    assert report.pickle is not None
    assert report.pickle.verdict is GlobalVerdict.DANGEROUS


def test_npy_of_numbers_is_not_a_model() -> None:
    data = _npy(bytes(8), descr="<f8")
    assert sniff_model_stream(io.BytesIO(data)) is ModelFormat.UNKNOWN


def test_npz_object_array_is_walked(tmp_path: pathlib.Path) -> None:
    data = _zip({"arr_0.npy": _npy(dangerous_pickle("builtins", "eval"))})
    report = _inspect(tmp_path, "arrays.npz", data)
    assert report.format is ModelFormat.ARCHIVE
    assert report.pickle is not None
    assert report.pickle.verdict is GlobalVerdict.DANGEROUS
    assert report.details["pickle_members"] == ["arr_0.npy"]


@pytest.mark.parametrize(
    "compress",
    [
        lambda data: gzip.compress(data),
        lambda data: lzma.compress(data),
        lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
        zlib.compress,
        bz2.compress,
    ],
    ids=["gzip", "xz", "lzma", "zlib", "bz2"],
)
def test_compressed_joblib_is_walked(
    tmp_path: pathlib.Path, compress: t.Callable[[bytes], bytes]
) -> None:
    # joblib.dump(..., compress=...) writes the pickle through one of these codecs.
    data = compress(dangerous_pickle("subprocess", "Popen"))
    report = _inspect(tmp_path, "model.joblib", data)
    assert report.format is ModelFormat.COMPRESSED_PICKLE
    assert report.pickle is not None
    assert report.pickle.verdict is GlobalVerdict.DANGEROUS


def test_joblib_array_data_stops_the_walk_with_an_error() -> None:
    # joblib writes raw array bytes into the pickle stream after a wrapper object:
    # what follows cannot be walked, so the file cannot be called safe.
    data = _proto(
        op_global("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81}b",
        protocol=4,
    )
    data += b"\x10" + b"\xff" * 16 + b"\x00\x01\x02\x03" * 4
    scan = scan_pickle_bytes(data)
    assert scan.errors
    assert scan.verdict is not GlobalVerdict.SAFE


def test_7z_without_py7zr_is_an_error_record(tmp_path: pathlib.Path) -> None:
    pytest.importorskip("vigil.modelfiles.archives")
    from vigil.modelfiles import archives

    if archives.has_py7zr():
        pytest.skip("py7zr is installed")
    data = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24)
    report = _inspect(tmp_path, "bundle.7z", data)
    assert report.format is ModelFormat.ARCHIVE
    assert [e.reason for e in report.errors] == ["dependency_unavailable"]


def test_7z_members_are_walked(tmp_path: pathlib.Path) -> None:
    py7zr = pytest.importorskip("py7zr")
    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w") as archive:
        archive.writestr(b"notes\n", "a.txt")
        archive.writestr(dangerous_pickle(), "m/model.ckpt")
    report = _inspect(tmp_path, "bundle.7z", buffer.getvalue())
    assert report.format is ModelFormat.ARCHIVE
    assert report.pickle is not None
    assert report.pickle.verdict is GlobalVerdict.DANGEROUS
    assert report.details["pickle_members"] == ["m/model.ckpt"]


# Oversized lengths


@pytest.mark.parametrize("length", [200_000_000, 2**63])
def test_huge_safetensors_header_length_is_too_large(
    tmp_path: pathlib.Path, length: int
) -> None:
    data = struct.pack("<Q", length) + b'{"w": {"dtype": "F32"}}' + bytes(64)
    report = _inspect(tmp_path, "huge.safetensors", data)
    assert report.format is ModelFormat.SAFETENSORS
    assert [e.reason for e in report.errors] == ["safetensors_header_too_large"]


def test_huge_frame_is_an_error_record() -> None:
    data = b"\x80\x04\x95" + struct.pack("<Q", 2**62) + b"K\x01."
    scan = scan_pickle_bytes(data)
    assert [e.reason for e in scan.errors] == ["truncated_pickle"]
    assert scan.verdict is GlobalVerdict.UNKNOWN
