"""kohya and modelspec training metadata, and embedded thumbnails."""

import base64
import hashlib
import json

import pytest
from model_builders import kohya_metadata

from helpers import image_bytes
from vigil.modelfiles.base import ModelLimits
from vigil.modelfiles.errors import ThumbnailError
from vigil.modelfiles.thumbnail import inspect_thumbnail, thumbnail_bytes
from vigil.modelfiles.training import read_training


def test_kohya_keys() -> None:
    metadata = kohya_metadata(
        {"10_landscapes": {"mountain": 3, "lake": 5}, "5_city": {"street": 2}},
        output_name="scenery_v1",
        comment="trained on public domain photos",
        ss_sd_model_hash="a1b2c3d4",
        ss_training_started_at="1700000000.5",
        sshs_model_hash="AB" * 32,
    )
    info, findings = read_training(metadata)
    assert findings == ()
    assert info.output_name == "scenery_v1"
    assert info.training_comment == "trained on public domain photos"
    assert info.base_model_version == "sd_v1"
    assert info.base_model_hash == "a1b2c3d4"
    assert info.num_train_images == 20
    assert info.training_started_at == 1700000000.5
    assert info.sshs_model_hash == "ab" * 32
    tags = {d.dataset: d.tags for d in info.tag_frequency}
    assert tags["10_landscapes"] == (
        ("lake", 5),
        ("mountain", 3),
    )  # most frequent first
    assert [(d.name, d.repeats, d.images) for d in info.dataset_dirs] == [
        ("10_landscapes", 10, 2),
        ("5_city", 10, 1),
    ]
    assert info.has_text


def test_config_file_datasets() -> None:
    datasets = [
        {
            "tag_frequency": {"portraits": {"smile": 4}},
            "subsets": [
                {
                    "image_dir": "/data/portraits",
                    "num_repeats": 3,
                    "img_count": 4,
                    "class_tokens": "person",
                }
            ],
        }
    ]
    info, _ = read_training({"ss_datasets": json.dumps(datasets)})
    assert [(d.dataset, d.tags) for d in info.tag_frequency] == [
        ("portraits", (("smile", 4),))
    ]
    assert [(d.name, d.repeats, d.class_tokens) for d in info.dataset_dirs] == [
        ("/data/portraits", 3, "person")
    ]


def test_modelspec_and_no_text() -> None:
    info, _ = read_training({"modelspec.title": "Watercolour style", "other": "x"})
    assert info.modelspec == {"modelspec.title": "Watercolour style"}
    assert info.has_text
    empty, _ = read_training({"ss_network_dim": "32"})
    assert not empty.has_text


@pytest.mark.parametrize(
    ("value", "codes"),
    [
        ("{not json", ["malformed_training_metadata"]),
        ("[1, 2]", ["malformed_training_metadata"]),
        (json.dumps({"d": ["not", "a", "map"]}), []),  # skipped quietly
    ],
)
def test_malformed_tag_frequency(value: str, codes: list[str]) -> None:
    info, findings = read_training({"ss_tag_frequency": value, "ss_output_name": "m"})
    assert info.tag_frequency == ()
    assert info.output_name == "m"
    assert [f.code for f in findings] == codes


def test_tag_budget() -> None:
    tags = {f"tag{i}": i for i in range(50)}
    info, findings = read_training(
        {"ss_tag_frequency": json.dumps({"d": tags})}, ModelLimits(max_tags=10)
    )
    assert len(info.tag_frequency[0].tags) == 10
    assert info.is_tags_truncated
    assert [f.code for f in findings] == ["tags_truncated"]


def test_thumbnail_is_hashed_and_decoded() -> None:
    png = image_bytes(7, size=(64, 48))
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    image = inspect_thumbnail({"modelspec.thumbnail": uri})
    assert image is not None
    assert image.declared_type == "image/png"
    assert (image.kind, image.size, image.width, image.height) == (
        "png",
        len(png),
        64,
        48,
    )
    assert image.hashes["sha256"] == hashlib.sha256(png).hexdigest()
    assert image.hashes["md5"] == hashlib.md5(png).hexdigest()  # noqa: S324
    assert len(image.hashes["pdq"]) == 64
    assert image.error is None
    assert thumbnail_bytes({"modelspec.thumbnail": uri}) == ("image/png", png)


def test_undecodable_thumbnail_keeps_its_hashes() -> None:
    data = b"not an image at all"
    value = base64.b64encode(data).decode()  # bare base64, no data URI
    image = inspect_thumbnail({"modelspec.thumbnail": value})
    assert image is not None
    assert image.hashes["sha256"] == hashlib.sha256(data).hexdigest()
    assert image.error is not None and "pdq" not in image.hashes


@pytest.mark.parametrize(
    ("value", "limits"),
    [
        ("data:image/png;base64,@@@@", ModelLimits()),
        ("data:image/png;base64,", ModelLimits()),
        (base64.b64encode(b"x" * 4000).decode(), ModelLimits(max_thumbnail_bytes=1000)),
    ],
)
def test_bad_thumbnails(value: str, limits: ModelLimits) -> None:
    with pytest.raises(ThumbnailError):
        inspect_thumbnail({"modelspec.thumbnail": value}, limits)


def test_no_thumbnail() -> None:
    assert inspect_thumbnail({"modelspec.title": "x"}) is None
