"""The contract of each plugin kind, as checks that raise AssertionError when broken."""

import re
import string

from PIL import Image

from vigil.engines.base import Engine
from vigil.hashing.base import Hasher, ImageHasher, StreamHasher
from vigil.media.base import DecodedImage, Limits, MediaKind
from vigil.testing import _tasks

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
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
    name = type(hasher).__dict__.get("name", getattr(hasher, "name", None))
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise _fail(f"{type(hasher).__qualname__}: name {name!r} is not lower_snake")
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
    name = type(engine).__dict__.get("name", getattr(engine, "name", None))
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise _fail(f"{type(engine).__qualname__}: name {name!r} is not lower_snake")
    tasks = list(range(40))
    with engine:
        results = sorted(
            engine.map_unordered(_tasks.square, iter(tasks), _tasks.crashed)
        )
        if results != [n * n for n in tasks]:
            raise _fail(f"{name}: results differ from the tasks' own results")
        if list(engine.map_unordered(_tasks.square, iter([]), _tasks.crashed)):
            raise _fail(f"{name}: results for no tasks")


__all__ = ["check_engine", "check_hasher"]
