"""Fixed full-resolution crops as arrays, shared by the pixel detectors.

Separate so both detectors ask the subject for the same crop sizes (the subject
makes each size once) and fall back the same way on small images.
"""

import numpy as np
import numpy.typing as npt

from vigil.media.subject import Subject

#: Smallest crop side read: 8 JPEG blocks per axis, the fewest that give the
#: 8-phase profiles more than a handful of samples per phase (Vigil's choice).
MIN_CROP_PX = 64

#: ITU-R BT.601 luma weights: exactly the Y of JPEG's YCbCr (JFIF 1.02), so the
#: luma of a decoded JPEG is its Y channel and chroma subsampling cancels out.
BT601_LUMA = (0.299, 0.587, 0.114)

#: Residual medians (for clipping) are taken on every 4th row and column: a
#: sixteenth of the samples, still thousands per crop (Vigil's choice, for speed).
MEDIAN_STRIDE_PX = 4

FloatArray = npt.NDArray[np.float32]


def rgb_crops(subject: Subject, side_px: int) -> tuple[FloatArray, ...]:
    """The subject's fixed crops (centre, then corners) as float32 RGB arrays:
    `side_px` when the image holds it, else the largest halving of it down to
    `MIN_CROP_PX`; empty when the image is smaller than that.

    Raises:
        MediaError: the pixels cannot be decoded.
    """
    side = side_px
    while side >= MIN_CROP_PX:
        crops = subject.crops(side)
        if crops:
            return tuple(np.asarray(c, dtype=np.float32) for c in crops)
        side //= 2
    return ()


def luma(rgb: FloatArray) -> FloatArray:
    """BT.601 luma of an RGB array, float32."""
    r, g, b = BT601_LUMA
    out: FloatArray = r * rgb[..., 0] + g * rgb[..., 1] + b * rgb[..., 2]
    return out
