"""The on-disk layout shared by every index: a folder with a JSON header and arrays.

Separate so that each index writes and checks the same header, and so that nothing in
persistence can unpickle: arrays go through `np.save`/`np.load` with
`allow_pickle=False`, FAISS indexes through `write_index_binary`.

Layout of an index folder:
- `index.json`: {"format": "vigil-index", "index": <name>, "version": <int>,
  "count": <hashes>, "hash_type": <type>, ...index-specific fields}; written last,
  so a folder whose save was interrupted has no header and refuses to load.
- one `.npy` file per array (or `index.faiss`), named by the index.
"""

import json
import pathlib
import typing as t

import numpy as np
import numpy.typing as npt

HEADER_NAME = "index.json"
FORMAT_NAME = "vigil-index"
# Index headers and arrays are small and trusted, but a header is still read with a
# limit so that a stray large file in the folder fails fast.
MAX_HEADER_BYTES = 64 * 1024


class IndexFormatError(ValueError):
    """An index folder is missing, of another kind or version, or inconsistent."""


def write_header(
    folder: pathlib.Path,
    *,
    index: str,
    version: int,
    count: int,
    hash_type: str,
    extra: t.Mapping[str, t.Any] | None = None,
) -> None:
    header: dict[str, t.Any] = {
        "format": FORMAT_NAME,
        "index": index,
        "version": version,
        "count": count,
        "hash_type": hash_type,
    }
    header.update(extra or {})
    temporary = folder / (HEADER_NAME + ".tmp")
    temporary.write_text(json.dumps(header, indent=2, sort_keys=True) + "\n")
    temporary.replace(folder / HEADER_NAME)


def read_header(folder: pathlib.Path) -> dict[str, t.Any]:
    """The header of an index folder, checked only for being a Vigil index header."""
    path = folder / HEADER_NAME
    if not path.is_file():
        raise IndexFormatError(f"{folder} is not an index folder: no {HEADER_NAME}")
    with path.open("rb") as stream:
        raw = stream.read(MAX_HEADER_BYTES + 1)
    if len(raw) > MAX_HEADER_BYTES:
        raise IndexFormatError(f"{path} is larger than {MAX_HEADER_BYTES} bytes")
    try:
        header = json.loads(raw)
    except ValueError as exc:
        raise IndexFormatError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise IndexFormatError(f"{path} is not a {FORMAT_NAME!r} header")
    for key, kind in (("index", str), ("version", int), ("count", int)):
        if not isinstance(header.get(key), kind):
            raise IndexFormatError(f"{path}: {key!r} missing or not {kind.__name__}")
    if not isinstance(header.get("hash_type"), str):
        raise IndexFormatError(f"{path}: 'hash_type' missing or not str")
    return header


def check_header(folder: pathlib.Path, *, index: str, version: int) -> dict[str, t.Any]:
    """Read the header and insist on this index kind and format version."""
    header = read_header(folder)
    if header["index"] != index:
        raise IndexFormatError(
            f"{folder} holds a {header['index']!r} index, not {index!r}; "
            "load it with vigil.matching.index.load_index"
        )
    if header["version"] != version:
        raise IndexFormatError(
            f"{folder} is {index!r} index format version {header['version']}; this "
            f"Vigil reads version {version}. Rebuild the index from the hash lists."
        )
    return header


def save_array(folder: pathlib.Path, name: str, array: npt.NDArray[t.Any]) -> None:
    np.save(folder / f"{name}.npy", array, allow_pickle=False)


def load_array(
    folder: pathlib.Path,
    name: str,
    *,
    dtype: npt.DTypeLike,
    shape: tuple[int | None, ...],
) -> npt.NDArray[t.Any]:
    """Load `<name>.npy`, insisting on its dtype and shape (None matches any length)."""
    path = folder / f"{name}.npy"
    if not path.is_file():
        raise IndexFormatError(f"{folder} is incomplete: {path.name} is missing")
    try:
        array: npt.NDArray[t.Any] = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise IndexFormatError(f"{path} is not a plain .npy array: {exc}") from exc
    is_shape = len(array.shape) == len(shape) and all(
        want in (None, got) for want, got in zip(shape, array.shape, strict=True)
    )
    if array.dtype != np.dtype(dtype) or not is_shape:
        raise IndexFormatError(
            f"{path} holds {array.dtype} {array.shape}, expected "
            f"{np.dtype(dtype)} {shape}"
        )
    return array


def prepare_folder(folder: pathlib.Path) -> None:
    """Create the folder and drop an old header first, so a half-written save of a
    new index is never read with the old header."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / HEADER_NAME).unlink(missing_ok=True)
