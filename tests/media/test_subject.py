"""The subject: decodes made once per scale, refusals remembered, fixed crops."""

import io

import pytest
from PIL import Image

from helpers import image_bytes
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import FileTooLargeError, TruncatedError
from vigil.media.subject import Subject


def test_decodes_are_cached_per_scale() -> None:
    subject = Subject(
        image_bytes(1, size=(900, 700), fmt="JPEG"), MediaKind.JPEG, Limits()
    )
    small, again = subject.decoded(512), subject.decoded(512)
    assert small is again
    full = subject.decoded(None)
    assert full is not small and full.width == 900


def test_a_refused_decode_is_remembered() -> None:
    subject = Subject(image_bytes(2, fmt="JPEG")[:120], MediaKind.JPEG, Limits())
    assert not subject.decode_failed
    with pytest.raises(TruncatedError) as first:
        subject.decoded(512)
    with pytest.raises(TruncatedError) as second:
        subject.decoded(512)
    assert first.value is second.value and subject.decode_failed


def test_fixed_crops_centre_then_corners() -> None:
    picture = Image.new("RGB", (600, 520), (10, 20, 30))
    picture.putpixel((0, 0), (255, 0, 0))  # marks the top-left corner
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    subject = Subject(buffer.getvalue(), MediaKind.PNG, Limits())
    crops = subject.crops(256)
    assert [c.size for c in crops] == [(256, 256)] * 5
    assert crops[1].getpixel((0, 0)) == (255, 0, 0)
    assert subject.crops(256) is crops
    assert len(subject.crops(300)) == 1  # only the centre fits apart
    assert subject.crops(700) == ()


def test_bytes_over_the_image_limit_are_not_held() -> None:
    data = image_bytes(3)
    subject = Subject(data, MediaKind.PNG, Limits(max_image_bytes=len(data) - 1))
    assert not subject.is_held
    with pytest.raises(FileTooLargeError):
        subject.decoded(512)
    assert subject.open().read() == data  # still streamable (model inspection)
