"""Tiny model files built in the tests: safetensors with metadata, hand-assembled
pickles (benign state dicts and malicious ones) and PyTorch-style zips.

Pickles are assembled from opcodes or written with `pickle.dumps` and are never
loaded: the scanner under test only reads them.
"""

import io
import json
import pickle
import struct
import typing as t
import zipfile

DTYPE_BYTES = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "U8": 1}


def safetensors_bytes(
    tensors: dict[str, tuple[str, list[int]]] | None = None,
    metadata: dict[str, str] | None = None,
    *,
    seed: int = 0,
    header: bytes | None = None,
    data: bytes | None = None,
) -> bytes:
    """A safetensors file. Tensors are laid out in order and filled with a
    deterministic pattern; `header`/`data` replace the generated parts verbatim."""
    tensors = tensors if tensors is not None else {"w": ("F32", [2, 2])}
    document: dict[str, t.Any] = {}
    if metadata is not None:
        document["__metadata__"] = metadata
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = DTYPE_BYTES[dtype]
        for dimension in shape:
            size *= dimension
        document[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [offset, offset + size],
        }
        offset += size
    if header is None:
        header = json.dumps(document).encode()
        header += b" " * (-len(header) % 8)  # writers pad to 8-byte alignment
    if data is None:
        data = bytes((seed + i * 7) % 256 for i in range(offset))
    return struct.pack("<Q", len(header)) + header + data


def kohya_metadata(
    tag_frequency: dict[str, dict[str, int]],
    *,
    output_name: str = "test_model",
    comment: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """Metadata the way kohya sd-scripts writes it (JSON values as strings)."""
    metadata = {
        "ss_output_name": output_name,
        "ss_tag_frequency": json.dumps(tag_frequency),
        "ss_dataset_dirs": json.dumps(
            {
                name: {"n_repeats": 10, "img_count": len(tags)}
                for name, tags in tag_frequency.items()
            }
        ),
        "ss_base_model_version": "sd_v1",
        "ss_network_module": "networks.lora",
        "ss_num_train_images": "20",
    }
    if comment is not None:
        metadata["ss_training_comment"] = comment
    metadata.update(extra)
    return metadata


# Opcode assembly (protocol 2 unless stated).


def op_global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_str(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def op_short_str(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def state_dict_pickle(names: t.Sequence[str]) -> bytes:
    """The shape of torch.save's data.pkl: an OrderedDict of `_rebuild_tensor_v2`
    calls on persistent storages."""
    out = [b"\x80\x02", op_global("collections", "OrderedDict"), b")R", b"("]
    for index, name in enumerate(names):
        out += [
            op_str(name),
            op_global("torch._utils", "_rebuild_tensor_v2"),
            b"(",
            b"(",
            op_str("storage"),
            op_global("torch", "FloatStorage"),
            op_str(str(index)),
            op_str("cpu"),
            b"K\x04",
            b"t",
            b"Q",  # BINPERSID
            b"K\x00",
            b"K\x04\x85",
            b"K\x01\x85",
            b"\x89",
            op_global("collections", "OrderedDict"),
            b")R",
            b"t",
            b"R",
        ]
    out += [b"u", b"."]
    return b"".join(out)


def stack_global_pickle(module: str, name: str, *, via_memo: bool = False) -> bytes:
    """Protocol 4: STACK_GLOBAL of `module.name` called with one string."""
    out = [b"\x80\x04", op_short_str(module)]
    if via_memo:
        out += [b"\x94", b"0", op_short_str(name), b"\x94", b"0", b"h\x00", b"h\x01"]
    else:
        out += [op_short_str(name)]
    out += [b"\x93", op_short_str("id"), b"\x85", b"R", b"."]
    return b"".join(out)


class Reducer:
    """Pickles as a call of `function(*args)`: how malicious pickles are made."""

    def __init__(self, function: t.Callable[..., t.Any], *args: t.Any) -> None:
        self.function = function
        self.args = args

    def __reduce__(self) -> tuple[t.Any, ...]:
        return (self.function, self.args)


def reducer_pickle(
    function: t.Callable[..., t.Any], protocol: int, *args: t.Any
) -> bytes:
    return pickle.dumps({"payload": Reducer(function, *args)}, protocol=protocol)


def torch_zip_bytes(
    data_pkl: bytes,
    *,
    prefix: str = "archive",
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A PyTorch-style zip: data.pkl, version, byteorder and one storage."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{prefix}/data.pkl", data_pkl)
        archive.writestr(f"{prefix}/byteorder", b"little")
        archive.writestr(f"{prefix}/data/0", bytes(range(16)))
        archive.writestr(f"{prefix}/version", b"3\n")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def legacy_torch_stream(payload: bytes) -> bytes:
    """torch.save's pre-zip layout: magic, protocol, sys info, `payload`, storage
    keys, then raw storage bytes."""
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    version = pickle.dumps(1001, protocol=2)
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True}, 2)
    keys = pickle.dumps(["0"], protocol=2)
    storage = struct.pack("<Q", 4) + bytes(16)
    return magic + version + sys_info + payload + keys + storage
