"""JPEG quantization tables against the IJG (libjpeg) standard tables.

Separate because it is pure table arithmetic: libjpeg's quality scaling of the
ITU-T T.81 Annex K tables, and the nearest IJG quality for a file's own tables.
"""

import numpy as np
import numpy.typing as npt

# ITU-T T.81 Annex K, tables K.1 (luminance) and K.2 (chrominance), natural
# (row-major) order, which is the order Pillow's `image.quantization` gives.
IJG_LUMA = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.int64,
).ravel()
IJG_CHROMA = np.array(
    [
        [17, 18, 24, 47, 99, 99, 99, 99],
        [18, 21, 26, 66, 99, 99, 99, 99],
        [24, 26, 56, 99, 99, 99, 99, 99],
        [47, 66, 99, 99, 99, 99, 99, 99],
        [99, 99, 99, 99, 99, 99, 99, 99],
        [99, 99, 99, 99, 99, 99, 99, 99],
        [99, 99, 99, 99, 99, 99, 99, 99],
        [99, 99, 99, 99, 99, 99, 99, 99],
    ],
    dtype=np.int64,
).ravel()
#: Baseline tables hold 8-bit entries (T.81 B.2.4.1), as libjpeg forces by default.
BASELINE_MAX_Q = 255

IntArray = npt.NDArray[np.int64]


def ijg_table(base: IntArray, quality: int) -> IntArray:
    """libjpeg's `jpeg_quality_scaling` + `jpeg_add_quant_table` (jcparam.c)."""
    quality = min(max(quality, 1), 100)
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    table = (base * scale + 50) // 100
    return np.clip(table, 1, BASELINE_MAX_Q)


_QUALITIES = range(1, 101)
_LUMA_BY_QUALITY = np.stack([ijg_table(IJG_LUMA, q) for q in _QUALITIES])
_CHROMA_BY_QUALITY = np.stack([ijg_table(IJG_CHROMA, q) for q in _QUALITIES])


def nearest_ijg(tables: dict[int, list[int]]) -> tuple[int, float]:
    """The IJG quality whose tables are nearest the file's, and the distance: mean
    |log2| ratio over the luma (and first chroma) table entries, 0.0 for tables
    exactly as libjpeg, Pillow and most encoders write them."""
    luma = np.asarray(tables[min(tables)], dtype=np.float64)
    error = np.abs(np.log2(_LUMA_BY_QUALITY / luma)).mean(axis=1)
    if len(tables) > 1:
        chroma = np.asarray(tables[sorted(tables)[1]], dtype=np.float64)
        chroma_error = np.abs(np.log2(_CHROMA_BY_QUALITY / chroma)).mean(axis=1)
        error = (error + chroma_error) / 2
    best = int(np.argmin(error))
    return _QUALITIES[best], float(error[best])
