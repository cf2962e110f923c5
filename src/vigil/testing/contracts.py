"""The contract of each plugin kind, as checks that raise AssertionError when broken."""

import io
import json
import random
import re
import string

from PIL import Image

from vigil.hashing.base import Hasher, ImageHasher, StreamHasher
from vigil.matching.base import FormatError, HashEntry, HashListFormat, Index
from vigil.media.base import DecodedImage, Limits, MediaKind
from vigil.media.errors import MediaError
from vigil.media.subject import Subject
from vigil.pipeline.engines.base import Engine
from vigil.pipeline.stage import Stage, StageContext, StageResult
from vigil.provenance.base import Extraction, Extractor
from vigil.testing import _tasks

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
CONTRACT_SEED = 20261123
# Benign made-up values of each shape, for format round trips.
CONTRACT_ENTRIES = (
    ("md5", "0123456789abcdef0123456789abcdef"),
    ("sha1", "0123456789abcdef0123456789abcdef01234567"),
    ("sha256", "0123456789abcdef" * 4),
    ("pdq", "f" * 32 + "0" * 32),
)
CONTRACT_IMAGE_PX = 300


def _fail(message: str) -> AssertionError:
    return AssertionError(message)


def _check_hex(hasher: Hasher, value: str) -> None:
    if len(value) != hasher.hex_length or set(value) - set(string.hexdigits.lower()):
        raise _fail(
            f"{hasher.name}: {value!r} is not {hasher.hex_length} lower-case hex digits"
        )


def _stream_value(hasher: StreamHasher, data: bytes, chunk: int) -> str:
    state = hasher.new()
    for start in range(0, len(data), chunk):
        state.update(data[start : start + chunk])
    return state.hexdigest()


def _contract_image() -> DecodedImage:
    image = Image.linear_gradient("L").resize((CONTRACT_IMAGE_PX, CONTRACT_IMAGE_PX))
    rgb = Image.merge("RGB", (image, image.rotate(90), image.rotate(180)))
    return DecodedImage(
        image=rgb,
        kind=MediaKind.PNG,
        width=rgb.width,
        height=rgb.height,
        frame_count=1,
        orientation=1,
        is_reduced=False,
    )


def check_hasher(hasher: Hasher) -> None:
    """A hasher has a stable name, gives lower-case hex and reproduces its examples."""
    name = check_identity(hasher)
    if not isinstance(hasher, StreamHasher | ImageHasher):
        raise _fail(f"{name}: neither a StreamHasher nor an ImageHasher")
    if isinstance(hasher, StreamHasher):
        data = bytes(range(256)) * 41
        whole = _stream_value(hasher, data, len(data))
        _check_hex(hasher, whole)
        for chunk in (1, 7, 4096):
            if _stream_value(hasher, data, chunk) != whole:
                raise _fail(f"{name}: result depends on how the bytes were chunked")
        for example in hasher.examples():
            got = _stream_value(hasher, example.data, 64)
            if got != example.value:
                raise _fail(f"{name}: example from {example.source} gave {got}")
    if isinstance(hasher, ImageHasher):
        image = _contract_image()
        first, second = hasher.hash_image(image), hasher.hash_image(image)
        _check_hex(hasher, first.value)
        if first != second:
            raise _fail(f"{name}: not deterministic on the same image")
        if first.hasher != name or not first.pipeline:
            raise _fail(f"{name}: result must carry the hasher name and a pipeline")
        for example in hasher.examples():
            from vigil.media.image import decode_image
            from vigil.media.sniff import sniff_bytes

            kind = sniff_bytes(example.data[:4096])
            decoded = decode_image(example.data, kind, Limits())
            got = hasher.hash_image(decoded).value
            if got != example.value:
                raise _fail(f"{name}: example from {example.source} gave {got}")


def check_engine(engine: Engine) -> None:
    """An engine returns exactly one result per task, whatever the order."""
    name = check_identity(engine)
    tasks = list(range(40))
    with engine:
        results = sorted(
            engine.map_unordered(_tasks.square, iter(tasks), _tasks.crashed)
        )
        if results != [n * n for n in tasks]:
            raise _fail(f"{name}: results differ from the tasks' own results")
        if list(engine.map_unordered(_tasks.square, iter([]), _tasks.crashed)):
            raise _fail(f"{name}: results for no tasks")


def check_format(fmt: HashListFormat) -> None:
    """A format writes what it can carry and reads back the same types and values."""
    name = check_identity(fmt)
    carried = 0
    for hash_type, value in CONTRACT_ENTRIES:
        buffer = io.BytesIO()
        try:
            written = _write_any(fmt, hash_type, value, buffer)
        except FormatError:
            continue  # the format has no field for this hash type
        carried += 1
        buffer.seek(0)
        back = [
            (e.hash_type, e.value) for e in fmt.read(buffer, default_type=hash_type)
        ]
        if written != 1 or back != [(hash_type, value)]:
            raise _fail(f"{name}: {hash_type} round trip gave {back}")
    if not carried:
        raise _fail(f"{name}: carries none of {[t for t, _ in CONTRACT_ENTRIES]}")


def _write_any(fmt: HashListFormat, hash_type: str, value: str, out: io.BytesIO) -> int:
    """Write one entry; a format for AI-only lists (NCMEC's generative-AI list) takes
    only entries labelled AI-generated."""
    try:
        return fmt.write([HashEntry(hash_type, value)], out)
    except FormatError:
        out.seek(0)
        out.truncate()
        return fmt.write([HashEntry(hash_type, value, ai_generated=True)], out)


def check_index(index: Index, hash_type: str) -> None:
    """An index returns exactly the brute-force result set, nearest first."""
    name = check_identity(index)
    rng = random.Random(CONTRACT_SEED)  # noqa: S311 - test data, not secrets
    bits = 256 if hash_type == "pdq" else 4 * len(dict(CONTRACT_ENTRIES)[hash_type])
    base = rng.getrandbits(bits)
    values = [
        base ^ (1 << rng.randrange(bits)) if i % 3 else rng.getrandbits(bits)
        for i in range(60)
    ]
    width = bits // 4
    hexes = [f"{v:0{width}x}" for v in values]
    index.add(list(range(len(hexes))), hexes)
    radii = (0, 8, 31) if hash_type == "pdq" else (0,)
    for radius in radii:
        query = f"{base:0{width}x}"
        expected = sorted(
            (bin(v ^ base).count("1"), i)
            for i, v in enumerate(values)
            if bin(v ^ base).count("1") <= radius
        )
        got = [(hit.distance, hit.id) for hit in index.search(query, radius)]
        if got != expected:
            raise _fail(f"{name}: radius {radius} gave {got[:5]}..., not brute force")
    index.remove([0, 1])
    if any(hit.id in (0, 1) for hit in index.search(hexes[1], radii[-1])):
        raise _fail(f"{name}: removed ids are still found")


def check_identity(plugin: object) -> str:
    """What every plugin of every kind shares: a stable lower_snake `name` declared
    on a class (never derived from the class name), and `examples()` giving a list
    whose entries say where they come from. Returns the name."""
    name = next(
        (c.__dict__["name"] for c in type(plugin).__mro__ if "name" in c.__dict__),
        None,
    )
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise _fail(f"{type(plugin).__qualname__}: name {name!r} is not lower_snake")
    examples = getattr(plugin, "examples", None)
    if not callable(examples):
        raise _fail(f"{name}: has no examples()")
    found = examples()
    if not isinstance(found, list):
        raise _fail(f"{name}: examples() must return a list")
    for example in found:
        source = getattr(example, "source", None)
        if not isinstance(source, str) or not source:
            raise _fail(f"{name}: every example must name its source")
    return name


def _contract_inputs() -> list[tuple[str, bytes, MediaKind]]:
    """Benign and hostile inputs every extractor must survive: a plain image in each
    lossless and lossy format, an empty file, truncations and random bytes."""
    rng = random.Random(CONTRACT_SEED)  # noqa: S311 - reproducible test bytes
    image = _contract_image().image
    inputs: list[tuple[str, bytes, MediaKind]] = []
    for fmt, kind in (("PNG", MediaKind.PNG), ("JPEG", MediaKind.JPEG)):
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        data = buffer.getvalue()
        inputs.append((f"plain {fmt}", data, kind))
        inputs.append((f"truncated {fmt}", data[: len(data) // 3], kind))
    noise = bytes(rng.getrandbits(8) for _ in range(4096))
    for kind in MediaKind:
        inputs.append((f"random bytes as {kind.value}", noise, kind))
        inputs.append((f"empty {kind.value}", b"", kind))
    return inputs


def check_stage(stage: Stage) -> None:
    """A stage returns a `StageResult` (never raises) on any input it applies to,
    scores in [0, 1] with a lower_snake name, and error records with lower_snake
    reasons; its options are JSON-serialisable (they go into the scan key)."""
    name = check_identity(stage)
    try:
        json.dumps(stage.options())
    except (TypeError, ValueError) as exc:
        raise _fail(f"{name}: options() not JSON: {exc}") from exc
    examples = [(e.source, e.data, e.kind) for e in stage.examples()]
    for label, data, kind in [*examples, *_contract_inputs()]:
        subject = Subject(data, kind, Limits())
        if not stage.applies_to(subject):
            continue
        try:
            result = stage.run(subject, StageContext(Limits()))
        except Exception as exc:
            raise _fail(f"{name}: {label}: raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(result, StageResult):
            raise _fail(f"{name}: {label}: returned {type(result).__name__}")
        for score in result.scores:
            if not NAME_PATTERN.match(score.name) or not 0 <= score.value <= 1:
                raise _fail(f"{name}: {label}: bad score {score}")
            json.dumps(score.as_dict())
        for error in result.errors:
            if not NAME_PATTERN.match(error.reason):
                raise _fail(f"{name}: reason {error.reason!r} is not lower_snake")


def check_extractor(extractor: Extractor) -> None:
    """An extractor returns an `Extraction` or raises a `MediaError` on any input;
    its output is JSON-serialisable; a plain synthetic image is not AI evidence."""
    name = check_identity(extractor)
    if not extractor.media_kinds or not extractor.media_kinds <= set(MediaKind):
        raise _fail(f"{name}: media_kinds must be a non-empty set of MediaKind")
    if extractor.max_seconds <= 0:
        raise _fail(f"{name}: max_seconds must be positive")
    for label, data, kind in _contract_inputs():
        if kind not in extractor.media_kinds:
            continue
        try:
            found = extractor.extract(Subject(data, kind, Limits()))
        except MediaError as exc:
            if not NAME_PATTERN.match(exc.reason):
                raise _fail(
                    f"{name}: reason {exc.reason!r} is not lower_snake"
                ) from exc
            continue
        except Exception as exc:
            raise _fail(f"{name}: {label}: raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(found, Extraction):
            raise _fail(f"{name}: {label}: returned {type(found).__name__}")
        for evidence in found.evidence:
            try:
                json.dumps(evidence.as_dict())
            except (TypeError, ValueError) as exc:
                raise _fail(f"{name}: {label}: details not JSON: {exc}") from exc
            if label.startswith("plain") and evidence.is_ai:
                raise _fail(f"{name}: a plain synthetic image gave AI evidence")
        for record in found.records:
            json.dumps(record.as_dict())


__all__ = [
    "check_identity",
    "check_stage",
    "check_engine",
    "check_extractor",
    "check_format",
    "check_hasher",
    "check_index",
]
