"""Walk pickle opcodes without executing them: which globals a loader would import.

Design notes:
- Never `pickle.load`/`torch.load`: they call what the stream names. This module
  reads opcodes with the descriptors of `pickletools` (the standard library's own
  pickle disassembler, which executes nothing) and simulates only the stack of
  *strings*, so `STACK_GLOBAL` (protocol 4+) resolves its module and name.
- Why not call `pickletools.genops` directly? It reads every argument whole (a
  `BINBYTES8` may claim 2**63 bytes) and lines without bound. The walker here uses the
  same opcode table and argument decoders, but on bounded slices: payloads of bytes
  are skipped, never held, and a length beyond the stream is an error before any
  allocation. Tests check it yields what `genops` yields on ordinary pickles.
- Bounds: opcodes, memo entries, stack depth and seconds (`ModelLimits`).
- Pickle bombs (memo `GET`s and `DUP`s nested into structures that expand
  exponentially when traversed) cost the walker nothing: values are symbols with an
  expanded-size estimate, saturated, and a huge estimate becomes a finding.
"""

import dataclasses
import io
import time
import typing as t

from vigil.modelfiles import _opcodes
from vigil.modelfiles._globals import GlobalVerdict, classify, worst
from vigil.modelfiles.base import Finding, ModelError, ModelLimits, Severity
from vigil.modelfiles.errors import (
    ModelFileError,
    PickleFormatError,
    PickleLimitError,
    PickleTruncatedError,
)

# torch.save's legacy (pre-zip) format opens with a pickled int: torch/serialization.py
# `MAGIC_NUMBER = 0x1950A86A20F9469CFC6C`, followed by four more pickles.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_LEGACY_PICKLES = 5  # magic, protocol version, sys info, object, storage keys
# An object graph that would expand past this many nodes when traversed is a bomb:
# 100x the opcode cap, far beyond any real state dict.
EXPANSION_FINDING_NODES = 1_000_000_000
_TIME_CHECK_EVERY = 4096  # opcodes between clock reads
_FINDING_VERDICTS = {
    Severity.HIGH: GlobalVerdict.DANGEROUS,
    Severity.REVIEW: GlobalVerdict.UNKNOWN,
    Severity.INFO: GlobalVerdict.SAFE,
}


@dataclasses.dataclass(frozen=True)
class GlobalRef:
    """A global a loader would import: `module.name`, how often, and the verdict."""

    module: str
    name: str
    verdict: GlobalVerdict
    count: int = 1

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "module": self.module,
            "name": self.name,
            "verdict": self.verdict.value,
            "count": self.count,
        }


@dataclasses.dataclass(frozen=True)
class PickleScan:
    """What the opcode walk of one or more pickles found."""

    verdict: GlobalVerdict
    globals: tuple[GlobalRef, ...]
    findings: tuple[Finding, ...]
    errors: tuple[ModelError, ...]
    pickles: int  # pickles walked to their STOP
    opcodes: int
    calls: int  # REDUCE, NEWOBJ, INST, OBJ, BUILD: callables a loader would invoke
    max_protocol: int
    is_torch_legacy: bool = False

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "verdict": self.verdict.value,
            "globals": [g.as_dict() for g in self.globals],
            "findings": [f.as_dict() for f in self.findings],
            "errors": [e.as_dict() for e in self.errors],
            "pickles": self.pickles,
            "opcodes": self.opcodes,
            "calls": self.calls,
            "max_protocol": self.max_protocol,
            "is_torch_legacy": self.is_torch_legacy,
        }


class PickleCollector:
    """Accumulates walks of several pickles (a zip's members, a legacy stream)."""

    def __init__(self, limits: ModelLimits) -> None:
        self.limits = limits
        # One time budget for every pickle of a file (a zip may hold thousands).
        self.deadline = time.monotonic() + limits.max_pickle_seconds
        self._globals: dict[tuple[str, str], int] = {}
        self.findings: list[Finding] = []
        self.errors: list[ModelError] = []
        self.pickles = 0
        self.opcodes = 0
        self.calls = 0
        self.max_protocol = 0
        self.is_torch_legacy = False

    def add_global(self, module: str, name: str) -> None:
        key = (module, name)
        self._globals[key] = self._globals.get(key, 0) + 1

    def walk_stream(self, stream: t.BinaryIO, end: int, where: str) -> None:
        """Walk consecutive pickles in `stream` from its position up to `end`.

        A legacy torch.save stream is walked for its five pickles; another stream
        while the next bytes open a protocol 2+ pickle. Errors are recorded, not
        raised.
        """
        if time.monotonic() > self.deadline:
            message = f"pickle walks took over {self.limits.max_pickle_seconds} s"
            self.errors.append(ModelError(PickleLimitError.reason, message, where))
            return
        index = 0
        while index < self.limits.max_pickles_per_stream:
            label = where if index == 0 else f"{where}#{index}"
            try:
                walk = _Walk(stream, end, self, label)
                first_int = walk.run()
            except ModelFileError as exc:
                self.errors.append(ModelError(exc.reason, exc.message, label))
                return
            if index == 0 and first_int == TORCH_LEGACY_MAGIC:
                self.is_torch_legacy = True
            index += 1
            if self.is_torch_legacy:
                if index >= TORCH_LEGACY_PICKLES:
                    return
                continue
            if not _opens_pickle(stream, end):
                self._note_trailing(stream, end, where)
                return
        self.findings.append(
            Finding(
                "too_many_pickles",
                Severity.REVIEW,
                f"more than {self.limits.max_pickles_per_stream} pickles in a row; "
                "the rest was not walked",
                where,
            )
        )

    def _note_trailing(self, stream: t.BinaryIO, end: int, where: str) -> None:
        left = end - stream.tell()
        if left > 0:
            self.findings.append(
                Finding(
                    "trailing_bytes",
                    Severity.INFO,
                    f"{left} bytes after the last pickle, which a loader that reads "
                    "several pickles (or another program) may use",
                    where,
                )
            )

    def result(self) -> PickleScan:
        refs = tuple(
            GlobalRef(module, name, classify(module, name), count)
            for (module, name), count in sorted(self._globals.items())
        )
        findings = list(self.findings)
        for ref in refs:
            if ref.verdict is GlobalVerdict.DANGEROUS:
                findings.append(
                    Finding(
                        "dangerous_global",
                        Severity.HIGH,
                        f"loading this file would import and may call {ref.qualified}",
                        ref.qualified,
                    )
                )
        unknown = [
            ref.qualified for ref in refs if ref.verdict is GlobalVerdict.UNKNOWN
        ]
        if unknown:
            findings.append(
                Finding(
                    "unknown_globals",
                    Severity.REVIEW,
                    f"{len(unknown)} global(s) outside the tensor allow-list: "
                    + ", ".join(unknown[:20]),
                )
            )
        # A high finding (unresolved global, bomb) makes the file dangerous to load;
        # a part that could not be walked means nothing can be called safe.
        verdicts = [ref.verdict for ref in refs]
        verdicts += [_FINDING_VERDICTS[f.severity] for f in findings]
        if self.errors or not self.pickles:
            verdicts.append(GlobalVerdict.UNKNOWN)
        return PickleScan(
            verdict=worst(verdicts),
            globals=refs,
            findings=tuple(findings),
            errors=tuple(self.errors),
            pickles=self.pickles,
            opcodes=self.opcodes,
            calls=self.calls,
            max_protocol=self.max_protocol,
            is_torch_legacy=self.is_torch_legacy,
        )


def scan_pickle_bytes(
    data: bytes, limits: ModelLimits | None = None, where: str = "pickle"
) -> PickleScan:
    """Walk the pickle(s) in `data`; never raises for bad input."""
    collector = PickleCollector(limits or ModelLimits())
    collector.walk_stream(io.BytesIO(data), len(data), where)
    return collector.result()


def scan_pickle_stream(
    stream: t.BinaryIO, limits: ModelLimits | None = None, where: str = "pickle"
) -> PickleScan:
    """Walk the pickle(s) of a seekable stream from its start; never raises for bad
    input (a failing read becomes an error record)."""
    collector = PickleCollector(limits or ModelLimits())
    end = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    collector.walk_stream(stream, end, where)
    return collector.result()


def _opens_pickle(stream: t.BinaryIO, end: int) -> bool:
    position = stream.tell()
    if end - position < 2:
        return False
    head = stream.read(2)
    stream.seek(position)
    return head[0] == _opcodes.PROTO_BYTE and 2 <= head[1] <= _opcodes.HIGHEST_PROTOCOL


class _Walk:
    """One pickle, from the stream position to its STOP."""

    def __init__(
        self, stream: t.BinaryIO, end: int, collector: PickleCollector, where: str
    ) -> None:
        self.reader = _opcodes.BoundedReader(stream, end)
        self.collector = collector
        self.limits = collector.limits
        self.where = where
        self.stack: list[_opcodes.Symbol] = []
        self.marks: list[int] = []
        self.memo: dict[int, _opcodes.Symbol] = {}
        self.has_bomb_finding = False

    def run(self) -> int | None:
        """Walk to STOP; return the first int pushed (the torch legacy magic)."""
        limits = self.limits
        deadline = self.collector.deadline
        first_int: int | None = None
        has_data = False
        count = 0
        for opcode, arg in _opcodes.read_opcodes(self.reader):
            count += 1
            self.collector.opcodes += 1
            if count % _TIME_CHECK_EVERY == 0 and time.monotonic() > deadline:
                raise PickleLimitError(
                    f"pickle walks took over {limits.max_pickle_seconds} s"
                )
            if count > limits.max_pickle_opcodes:
                raise PickleLimitError(f"more than {limits.max_pickle_opcodes} opcodes")
            if not has_data and opcode.name not in _opcodes.FRAMING_OPCODES:
                has_data = True
                if opcode.name in _opcodes.INT_OPCODES and isinstance(arg, int):
                    first_int = arg
            if opcode.name == "STOP":
                if len(self.stack) <= self._fence():
                    raise PickleFormatError("STOP with nothing on the stack")
                self.collector.pickles += 1
                return first_int
            self._step(opcode, arg)
        raise PickleTruncatedError("pickle ended before STOP")

    def _step(self, opcode: _opcodes.OpcodeInfo, arg: t.Any) -> None:
        name = opcode.name
        if name == "PROTO":
            if arg > _opcodes.HIGHEST_PROTOCOL:
                raise PickleFormatError(f"unsupported pickle protocol {arg}")
            self.collector.max_protocol = max(self.collector.max_protocol, arg)
            return
        if name in _opcodes.CALL_OPCODES:
            self.collector.calls += 1
        elif name.startswith("EXT"):
            self._note_extension(arg)
        if name == "MARK":
            if len(self.marks) >= self.limits.max_pickle_stack:
                raise PickleLimitError(
                    f"more than {self.limits.max_pickle_stack} marks"
                )
            self.marks.append(len(self.stack))
            return
        if name in _opcodes.PUT_OPCODES:
            self._put(arg if name != "MEMOIZE" else len(self.memo))
            return
        if name in _opcodes.GET_OPCODES:
            if arg not in self.memo:
                raise PickleFormatError(f"memo key {arg} read before it was written")
            self._push(self.memo[arg])
            return
        if name == "POP" and (not self.stack or len(self.stack) == self._fence()):
            if not self.marks:
                raise PickleFormatError("POP on an empty stack")
            self.marks.pop()
            return
        popped = self._pop_for(opcode)
        if name in ("GLOBAL", "INST"):
            module, _, attribute = str(arg).partition(" ")
            self.collector.add_global(module, attribute)
        elif name == "STACK_GLOBAL":
            self._stack_global(popped)
        if name == "DUP":
            self._push(popped[0])
            self._push(popped[0])
            return
        for _ in opcode.stack_after:
            self._push(_opcodes.symbol_after(opcode, arg, popped))
        self._check_expansion()

    def _fence(self) -> int:
        return self.marks[-1] if self.marks else 0

    def _pop_for(self, opcode: _opcodes.OpcodeInfo) -> list[_opcodes.Symbol]:
        """Pop what `opcode` consumes, mark slices included, bottom first."""
        before = opcode.stack_before
        popped: list[_opcodes.Symbol] = []
        below = len(before)
        if _opcodes.markobject in before:
            if not self.marks:
                raise PickleFormatError(f"{opcode.name} without a MARK")
            start = self.marks.pop()
            popped = self.stack[start:]
            del self.stack[start:]
            below = before.index(_opcodes.markobject)
        if below:
            if len(self.stack) - self._fence() < below:
                raise PickleFormatError(f"{opcode.name} pops below the stack bottom")
            popped = self.stack[-below:] + popped
            del self.stack[-below:]
        return popped

    def _push(self, symbol: _opcodes.Symbol) -> None:
        if len(self.stack) >= self.limits.max_pickle_stack:
            raise PickleLimitError(f"stack deeper than {self.limits.max_pickle_stack}")
        self.stack.append(symbol)

    def _put(self, key: int) -> None:
        if len(self.stack) == self._fence():
            raise PickleFormatError("memo write with an empty stack")
        if key not in self.memo and len(self.memo) >= self.limits.max_pickle_memo:
            raise PickleLimitError(
                f"more than {self.limits.max_pickle_memo} memo entries"
            )
        self.memo[key] = self.stack[-1]

    def _stack_global(self, popped: list[_opcodes.Symbol]) -> None:
        module, name = popped[0].text, popped[1].text
        if module is None or name is None:
            self.collector.findings.append(
                Finding(
                    "unresolved_global",
                    Severity.HIGH,
                    "STACK_GLOBAL names a global built at load time, which hides "
                    "what a loader would import",
                    self.where,
                )
            )
            return
        self.collector.add_global(module, name)

    def _note_extension(self, code: int) -> None:
        self.collector.findings.append(
            Finding(
                "extension_code",
                Severity.REVIEW,
                f"extension code {code} names a global through the loader's copyreg "
                "registry, which the file does not show",
                self.where,
            )
        )

    def _check_expansion(self) -> None:
        if self.has_bomb_finding or not self.stack:
            return
        if self.stack[-1].nodes >= EXPANSION_FINDING_NODES:
            self.has_bomb_finding = True
            self.collector.findings.append(
                Finding(
                    "pickle_bomb",
                    Severity.HIGH,
                    "shared references nest into a structure of over "
                    f"{EXPANSION_FINDING_NODES:,} nodes when expanded",
                    self.where,
                )
            )
