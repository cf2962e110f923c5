"""`vigil scan` picks up model files and links images to the models named in their
generation records: by a model file seen in the scan, or by a model hash list."""

import hashlib
import io
import json
import pathlib
import struct

import sqlalchemy as sa
from PIL import Image, PngImagePlugin

from helpers import image_bytes, work_config
from vigil.matching.base import HashEntry
from vigil.pipeline.engines.inline import InlineEngine
from vigil.scans.run import run_scan
from vigil.store.store import SQLStore as Store


def _safetensors(metadata: dict[str, str], payload: bytes = b"\x00" * 16) -> bytes:
    header = {
        "__metadata__": metadata,
        "lora_up.weight": {
            "dtype": "F32",
            "shape": [len(payload) // 4],
            "data_offsets": [0, len(payload)],
        },
    }
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + payload


def _image_naming(model_hash: str, lora: str, lora_hash: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters",
        f"a lighthouse <lora:{lora}:0.7>\nNegative prompt: blurry\n"
        f"Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 96x64, "
        f'Model hash: {model_hash}, Model: base, Lora hashes: "{lora}: {lora_hash}"',
    )
    buffer = io.BytesIO()
    Image.open(io.BytesIO(image_bytes(9))).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def test_model_files_are_recorded_and_images_linked(
    tmp_path: pathlib.Path, store: Store
) -> None:
    tree = tmp_path / "seized"
    tree.mkdir()
    lora = _safetensors(
        {"ss_output_name": "lighthouse_style", "ss_tag_frequency": "{}"},
        payload=bytes(range(32)),
    )
    (tree / "lighthouse_style.safetensors").write_bytes(lora)
    header_length = struct.unpack("<Q", lora[:8])[0]
    autov3 = hashlib.sha256(lora[8 + header_length :]).hexdigest()[:12]
    checkpoint_sha256 = hashlib.sha256(b"a checkpoint not on this device").hexdigest()
    (tree / "render.png").write_bytes(
        _image_naming(checkpoint_sha256[:10], "lighthouse_style", autov3)
    )
    (tree / "renamed.safetensors").write_bytes(b"\x80\x04\x95" + b"\x00" * 64)
    store.hashlists.create("models")
    store.hashlists.import_entries("models", [HashEntry("sha256", checkpoint_sha256)])

    config = work_config(provenance=True)
    summary = run_scan(store, [str(tree)], config=config, engine=InlineEngine())

    assert summary.models.model_files == 2
    assert summary.models.linked_images == 1
    with store.engine.connect() as c:
        links = c.execute(
            sa.text(
                "select role, hash_kind, hash_value, model_item_id is not null, "
                "entry_id is not null from model_links order by role"
            )
        ).all()
        formats = sorted(c.execute(sa.text("select format from model_files")).scalars())
    assert [tuple(row) for row in links] == [
        ("checkpoint", "autov2", checkpoint_sha256[:10], 0, 1),
        ("lora", "autov3", autov3, 1, 0),
    ]
    assert formats == ["pickle", "safetensors"]

    from vigil.store.modelfiles import scan_links

    shown = {
        (link.role, link.model, link.hash_list)
        for link in scan_links(store.engine, summary.scan_id)
    }
    assert shown == {
        ("checkpoint", None, "models"),
        ("lora", str(tree / "lighthouse_style.safetensors"), None),
    }
    again = run_scan(store, [str(tree)], config=config, engine=InlineEngine())
    assert again.models.linked_images == 1  # links are rebuilt, never doubled


def test_a_model_file_matches_a_list_by_its_autov3(
    tmp_path: pathlib.Path, store: Store
) -> None:
    from vigil.store.matches import load_matcher

    data = _safetensors({"ss_output_name": "x"}, payload=bytes(range(16)))
    (tmp_path / "renamed.bin").write_bytes(data)
    header_length = struct.unpack("<Q", data[:8])[0]
    autov3 = hashlib.sha256(data[8 + header_length :]).hexdigest()[:12]
    store.hashlists.create("loras")
    store.hashlists.import_entries("loras", [HashEntry("autov3", autov3)])
    summary = run_scan(
        store,
        [str(tmp_path / "renamed.bin")],
        config=work_config(provenance=True),
        engine=InlineEngine(),
        matcher=load_matcher(store.engine),
    )
    assert summary.matches_by_verdict == {"match": 1}


def test_an_embedded_thumbnail_is_an_item_of_its_own(
    tmp_path: pathlib.Path, store: Store
) -> None:
    import base64

    preview = image_bytes(11, size=(128, 96))
    thumbnail = "data:image/png;base64," + base64.b64encode(preview).decode()
    model = tmp_path / "style.safetensors"
    model.write_bytes(_safetensors({"modelspec.thumbnail": thumbnail}))
    summary = run_scan(
        store,
        [str(model)],
        config=work_config(provenance=True),
        engine=InlineEngine(),
    )
    assert (summary.items, summary.models.model_files) == (2, 1)
    with store.engine.connect() as c:
        rows = c.execute(
            sa.text(
                "select l.member_path, i.sha256, i.kind from locations l "
                "join items i on i.id = l.item_id where l.member_path != ''"
            )
        ).all()
        hashers = set(
            c.execute(
                sa.text(
                    "select h.hasher from hashes h join items i on i.id = h.item_id "
                    "where i.sha256 = :s"
                ),
                {"s": hashlib.sha256(preview).hexdigest()},
            ).scalars()
        )
    assert [tuple(r) for r in rows] == [
        ("modelspec.thumbnail", hashlib.sha256(preview).hexdigest(), "png")
    ]
    assert "pdq" in hashers


def test_model_files_may_be_larger_than_the_file_limit(
    tmp_path: pathlib.Path, store: Store
) -> None:
    import dataclasses

    from vigil.media.base import Limits

    tree = tmp_path / "tree"
    tree.mkdir()
    model = tree / "big.safetensors"
    model.write_bytes(_safetensors({"ss_output_name": "x"}, payload=bytes(4096)))
    (tree / "big.bin").write_bytes(bytes(4096))
    small = Limits(max_file_bytes=1024)  # stands in for 4 GiB against a 6 GB model
    config = work_config(small, provenance=True)
    summary = run_scan(store, [str(tree)], config=config, engine=InlineEngine())
    assert summary.models.model_files == 1
    assert summary.errors_by_reason == {"file_too_large": 1}  # big.bin only
    plain = dataclasses.replace(
        config, stages=tuple(s for s in config.stages if s.name != "model")
    )
    again = run_scan(store, [str(tree)], config=plain, engine=InlineEngine())
    assert again.errors_by_reason == {"file_too_large": 2}
