"""The pickle opcode walk: globals found, dangerous ones flagged, nothing executed,
hostile streams bounded."""

import builtins
import collections
import io
import os
import pickle
import pickletools
import subprocess
import time
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_builders import (
    legacy_torch_stream,
    op_global,
    op_short_str,
    reducer_pickle,
    stack_global_pickle,
    state_dict_pickle,
    torch_zip_bytes,
)

from vigil.modelfiles import _opcodes
from vigil.modelfiles._globals import GlobalVerdict, classify
from vigil.modelfiles.base import ModelLimits
from vigil.modelfiles.errors import ModelArchiveError
from vigil.modelfiles.pickles import scan_pickle_bytes
from vigil.modelfiles.torchzip import scan_torch_zip

PROTOCOLS = range(0, pickle.HIGHEST_PROTOCOL + 1)


@pytest.fixture(autouse=True)
def _no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to unpickle during a test fails it."""

    def refuse(*_args: t.Any, **_kwargs: t.Any) -> t.NoReturn:
        raise AssertionError("the scanner must never unpickle")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)


def qualified(scan: t.Any) -> set[str]:
    return {ref.qualified for ref in scan.globals}


def test_state_dict_is_safe_and_lists_its_globals() -> None:
    data = state_dict_pickle(["model.weight", "model.bias"])
    pickletools.dis(data, out=io.StringIO())  # the stdlib agrees it is well formed
    scan = scan_pickle_bytes(data)
    assert scan.verdict is GlobalVerdict.SAFE
    assert qualified(scan) == {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch.FloatStorage",
    }
    counts = {ref.qualified: ref.count for ref in scan.globals}
    assert counts["torch._utils._rebuild_tensor_v2"] == 2
    assert (scan.pickles, scan.errors, scan.findings) == (1, (), ())
    assert scan.calls == 1 + 2 * 2  # OrderedDict(), then two REDUCEs per tensor


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("function", "args", "expected"),
    [
        (os.system, ("true",), {"posix.system", "os.system"}),
        (builtins.eval, ("1+1",), {"builtins.eval", "__builtin__.eval"}),
        (builtins.exec, ("pass",), {"builtins.exec", "__builtin__.exec"}),
        (
            builtins.__import__,
            ("os",),
            {"builtins.__import__", "__builtin__.__import__"},
        ),
        # Protocols 0-2 write Python 2 names: subprocess.check_call -> commands.
        (
            subprocess.check_call,
            (["true"],),
            {"subprocess.check_call", "commands.check_call"},
        ),
    ],
)
def test_dangerous_globals_found_in_every_protocol(
    protocol: int,
    function: t.Callable[..., t.Any],
    args: tuple[t.Any, ...],
    expected: set[str],
) -> None:
    scan = scan_pickle_bytes(reducer_pickle(function, protocol, *args))
    assert scan.verdict is GlobalVerdict.DANGEROUS
    dangerous = {r.qualified for r in scan.globals if r.verdict == "dangerous"}
    assert dangerous & expected
    assert scan.max_protocol == (protocol if protocol >= 2 else 0)
    assert any(f.code == "dangerous_global" for f in scan.findings)


def test_unknown_global_is_unknown_not_safe() -> None:
    scan = scan_pickle_bytes(reducer_pickle(collections.Counter, 2, "ab"))
    assert scan.verdict is GlobalVerdict.UNKNOWN
    assert [f.code for f in scan.findings] == ["unknown_globals"]


@pytest.mark.parametrize("via_memo", [False, True])
def test_stack_global_resolves_through_the_simulated_stack(via_memo: bool) -> None:
    data = stack_global_pickle("subprocess", "Popen", via_memo=via_memo)
    pickletools.dis(data, out=io.StringIO())
    scan = scan_pickle_bytes(data)
    assert qualified(scan) == {"subprocess.Popen"}
    assert scan.verdict is GlobalVerdict.DANGEROUS


def test_stack_global_built_at_load_time_is_flagged() -> None:
    # The module name is the result of a call, so no scanner can know it.
    data = (
        b"\x80\x04"
        + op_global("builtins", "str")
        + op_short_str("o")
        + b"\x85R"
        + op_short_str("system")
        + b"\x93"
        + op_short_str("id")
        + b"\x85R."
    )
    scan = scan_pickle_bytes(data)
    assert scan.verdict is GlobalVerdict.DANGEROUS
    assert "unresolved_global" in {f.code for f in scan.findings}


@pytest.mark.parametrize(
    ("module", "name", "verdict"),
    [
        ("torch._utils", "_rebuild_tensor_v2", GlobalVerdict.SAFE),
        ("numpy.core.multiarray", "_reconstruct", GlobalVerdict.SAFE),
        ("builtins", "getattr", GlobalVerdict.DANGEROUS),
        ("importlib.util", "find_spec", GlobalVerdict.DANGEROUS),
        ("torch", "load", GlobalVerdict.DANGEROUS),
        ("collections", "OrderedDict.__init__.__globals__", GlobalVerdict.DANGEROUS),
        ("collections", "OrderedDict.fromkeys", GlobalVerdict.UNKNOWN),
        ("pytorch_lightning.callbacks", "ModelCheckpoint", GlobalVerdict.UNKNOWN),
    ],
)
def test_classification(module: str, name: str, verdict: GlobalVerdict) -> None:
    assert classify(module, name) is verdict


def test_legacy_torch_stream_walks_all_five_pickles() -> None:
    payload = reducer_pickle(os.system, 2, "true")
    scan = scan_pickle_bytes(legacy_torch_stream(payload))
    assert scan.is_torch_legacy
    assert scan.pickles == 5
    assert scan.errors == ()  # the raw storage bytes after the keys are not walked
    assert scan.verdict is GlobalVerdict.DANGEROUS


def test_concatenated_pickles_are_all_walked() -> None:
    data = pickle.dumps([1, 2], protocol=4) + reducer_pickle(builtins.eval, 4, "1")
    scan = scan_pickle_bytes(data)
    assert scan.pickles == 2
    assert "builtins.eval" in qualified(scan)


# Bounds and hostile input


def test_memo_bomb_is_a_finding_and_cheap() -> None:
    # Each level is a list of ten references to the level below: 10**30 nodes when
    # expanded, 700 bytes on disk.
    parts = [b"\x80\x04", b"]\x94"]
    for level in range(30):
        parts.append(b"(" + (b"h" + bytes([level])) * 10 + b"l\x94")
    parts.append(b".")
    started = time.perf_counter()
    scan = scan_pickle_bytes(b"".join(parts))
    assert time.perf_counter() - started < 1.0
    assert "pickle_bomb" in {f.code for f in scan.findings}
    assert scan.verdict is GlobalVerdict.DANGEROUS


def test_dup_bomb_is_a_finding() -> None:
    parts = [b"\x80\x04", b"]"]
    for _ in range(64):  # each level is a 2-tuple of the level below
        parts.append(b"2\x86")
    parts.append(b".")
    scan = scan_pickle_bytes(b"".join(parts))
    assert "pickle_bomb" in {f.code for f in scan.findings}


@pytest.mark.parametrize(
    "claim",
    [
        b"\x8e" + (1 << 62).to_bytes(8, "little"),  # BINBYTES8
        b"\x96" + (1 << 40).to_bytes(8, "little"),  # BYTEARRAY8
        b"\x8d" + (1 << 50).to_bytes(8, "little"),  # BINUNICODE8
        b"X" + (0xFFFFFFFF).to_bytes(4, "little"),  # BINUNICODE
    ],
)
def test_huge_length_claims_are_refused_before_reading(claim: bytes) -> None:
    scan = scan_pickle_bytes(b"\x80\x04" + claim + b"x" * 100)
    assert [e.reason for e in scan.errors] == ["truncated_pickle"]
    assert scan.verdict is GlobalVerdict.UNKNOWN


def test_large_payloads_are_skipped_not_held() -> None:
    blob = os.urandom(3 * 1024 * 1024)
    data = pickle.dumps({"blob": blob, "call": reducer_pickle(len, 4, "x")}, protocol=4)
    scan = scan_pickle_bytes(data)
    assert scan.errors == ()
    assert scan.pickles == 1


@pytest.mark.parametrize(
    ("data", "limits", "reason"),
    [
        (
            b"\x80\x02" + b"(" * 5000 + b".",
            ModelLimits(max_pickle_stack=100),
            "pickle_limit",
        ),
        (b"\x80\x02(.", ModelLimits(), "malformed_pickle"),  # STOP with only a MARK
        (
            b"\x80\x02" + b"N" * 500 + b".",
            ModelLimits(max_pickle_stack=100),
            "pickle_limit",
        ),
        (
            b"\x80\x02" + b"N0" * 500 + b"N.",
            ModelLimits(max_pickle_opcodes=100),
            "pickle_limit",
        ),
        (
            b"\x80\x02N"
            + b"".join(b"r" + i.to_bytes(4, "little") for i in range(50))
            + b".",
            ModelLimits(max_pickle_memo=10),
            "pickle_limit",
        ),
        (b"\x80\x02h\x05.", ModelLimits(), "malformed_pickle"),
        (b"\x80\x02e.", ModelLimits(), "malformed_pickle"),  # APPENDS without MARK
        (b"\x80\x02\xff.", ModelLimits(), "malformed_pickle"),
        (b"\x80\x09N.", ModelLimits(), "malformed_pickle"),  # unknown protocol
        (b"\x80\x02N", ModelLimits(), "truncated_pickle"),
        (b"cos\nsys", ModelLimits(), "truncated_pickle"),
    ],
)
def test_bad_and_oversized_pickles_become_errors(
    data: bytes, limits: ModelLimits, reason: str
) -> None:
    scan = scan_pickle_bytes(data, limits)
    assert [e.reason for e in scan.errors] == [reason]
    assert scan.verdict is not GlobalVerdict.SAFE


def test_time_limit() -> None:
    data = b"\x80\x02" + b"N0" * 200_000 + b"N."
    scan = scan_pickle_bytes(data, ModelLimits(max_pickle_seconds=0.0))
    assert [e.reason for e in scan.errors] == ["pickle_limit"]


# The walker against the standard library's disassembler

_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=40),
    lambda children: (
        st.lists(children, max_size=5)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=5), children, max_size=5)
        | st.frozensets(st.integers(), max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(value=_VALUES, protocol=st.sampled_from(list(PROTOCOLS)))
def test_walker_reads_what_genops_reads(value: t.Any, protocol: int) -> None:
    data = pickle.dumps(value, protocol=protocol)
    reader = _opcodes.BoundedReader(io.BytesIO(data), len(data))
    ours = list(_opcodes.read_opcodes(reader))
    theirs = [(op, arg) for op, arg, _ in pickletools.genops(data)]
    assert [op.name for op, _ in ours] == [op.name for op, _ in theirs]
    for (_, arg), (_, reference) in zip(ours, theirs, strict=True):
        if isinstance(arg, _opcodes.Elided):
            assert arg.length == len(reference)
        else:
            assert arg == reference
    scan = scan_pickle_bytes(data)
    assert scan.errors == ()
    assert scan.verdict is GlobalVerdict.SAFE


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    scan = scan_pickle_bytes(data, ModelLimits(max_pickle_seconds=2.0))
    if scan.pickles == 0:
        assert scan.verdict is not GlobalVerdict.SAFE


# PyTorch zips


def test_torch_zip_pickles_are_walked() -> None:
    benign = scan_torch_zip(io.BytesIO(torch_zip_bytes(state_dict_pickle(["w"]))))
    assert benign.pickle.verdict is GlobalVerdict.SAFE
    assert benign.pickle_members == ("archive/data.pkl",)
    malicious = torch_zip_bytes(
        state_dict_pickle(["w"]),
        extra={"archive/extra.pkl": reducer_pickle(os.system, 2, "true")},
    )
    scan = scan_torch_zip(io.BytesIO(malicious))
    assert scan.pickle.verdict is GlobalVerdict.DANGEROUS
    assert scan.pickle.pickles == 2


def test_torchscript_code_is_a_finding() -> None:
    data = torch_zip_bytes(
        state_dict_pickle(["w"]),
        extra={"archive/code/__torch__/m.py": b"def f(): pass"},
    )
    scan = scan_torch_zip(io.BytesIO(data))
    assert [f.code for f in scan.findings] == ["torchscript_code"]


def test_truncated_zip_is_refused() -> None:
    data = torch_zip_bytes(state_dict_pickle(["w"]))
    with pytest.raises(ModelArchiveError):
        scan_torch_zip(io.BytesIO(data[: len(data) // 2]))


def test_zip_member_cap() -> None:
    data = torch_zip_bytes(state_dict_pickle(["w"]))
    with pytest.raises(ModelArchiveError, match="members"):
        scan_torch_zip(io.BytesIO(data), ModelLimits(max_zip_members=2))


def test_corrupt_member_is_an_error_record() -> None:
    payload = state_dict_pickle(["w"])
    data = bytearray(torch_zip_bytes(payload))
    start = bytes(data).index(payload)
    data[start + 10] ^= 0xFF  # stored member: the CRC check fails on read
    scan = scan_torch_zip(io.BytesIO(bytes(data)))
    assert [e.where for e in scan.errors] == ["archive/data.pkl"]
    assert scan.pickle.verdict is GlobalVerdict.UNKNOWN


def test_oversized_pickle_member_is_an_error_record() -> None:
    data = torch_zip_bytes(state_dict_pickle(["w"] * 50))
    scan = scan_torch_zip(io.BytesIO(data), ModelLimits(max_pickle_member_bytes=64))
    assert "pickle cap" in scan.errors[0].message


def test_one_time_budget_covers_every_pickle_of_a_zip() -> None:
    extra = {f"archive/extra{i}.pkl": state_dict_pickle(["w"]) for i in range(20)}
    data = torch_zip_bytes(state_dict_pickle(["w"]), extra=extra)
    scan = scan_torch_zip(io.BytesIO(data), ModelLimits(max_pickle_seconds=0.0))
    assert scan.pickle.pickles <= 1
    assert len(scan.pickle.errors) >= 20
    assert {e.reason for e in scan.pickle.errors} == {"pickle_limit"}
    assert scan.pickle.verdict is GlobalVerdict.UNKNOWN


def test_bytes_after_the_last_pickle_are_a_finding() -> None:
    hidden = b"cos\nsystem\n(S'true'\ntR."  # protocol 0: no PROTO opcode to spot
    scan = scan_pickle_bytes(pickle.dumps([1], protocol=2) + hidden)
    trailing = [f for f in scan.findings if f.code == "trailing_bytes"]
    assert len(trailing) == 1
    assert trailing[0].message.startswith(f"{len(hidden)} bytes")
