"""Known invisible-watermark messages and the ways tools hand pixels to the encoder
(channel order, pixel type, chroma upsampling). See `vigil.provenance.watermark`."""

import dataclasses
import enum

import numpy as np

Bits = tuple[int, ...]


class ChannelOrder(enum.StrEnum):
    """The order of the pixels the embedding tool handed to imwatermark."""

    BGR = "bgr"  # as imwatermark expects: SD scripts, generative-models, InvokeAI
    RGB = "rgb"  # RGB passed as BGR: diffusers' StableDiffusionXLWatermarker


class PixelType(enum.StrEnum):
    """The type of the pixels the embedding tool handed to imwatermark."""

    UINT8 = "uint8"  # SD 1.x/2.x scripts, InvokeAI
    FLOAT = "float"  # float32 in 0..255: generative-models, diffusers


@dataclasses.dataclass(frozen=True)
class Reading:
    """One way of reading the U plane: how the embedding tool called imwatermark."""

    order: ChannelOrder
    pixels: PixelType

    def __str__(self) -> str:
        return f"{self.order.value}/{self.pixels.value}"


_UINT8_READINGS = (
    Reading(ChannelOrder.BGR, PixelType.UINT8),
    Reading(ChannelOrder.RGB, PixelType.UINT8),
)
ALL_READINGS = (
    *_UINT8_READINGS,
    Reading(ChannelOrder.BGR, PixelType.FLOAT),
    Reading(ChannelOrder.RGB, PixelType.FLOAT),
)


class ChromaUpsampling(enum.Enum):
    """Which axes of the chroma plane a decoder upsampled (rows, columns)."""

    NONE = (False, False)
    H2V1 = (False, True)  # 4:2:2 JPEG
    H2V2 = (True, True)  # 4:2:0 JPEG, lossy WebP

    @property
    def label(self) -> str | None:
        return {"H2V1": "4:2:2", "H2V2": "4:2:0"}.get(self.name)


def bits_of_bytes(message: bytes) -> Bits:
    """Message bits as imwatermark's `set_by_bytes` lays them out (MSB first)."""
    return tuple(int(b) for b in np.unpackbits(np.frombuffer(message, np.uint8)))


@dataclasses.dataclass(frozen=True)
class KnownWatermark:
    name: str  # evidence source is "watermark:<name>"
    description: str
    bits: Bits
    readings: tuple[Reading, ...]  # how the tools that embed it call imwatermark
    text: str | None = None  # the message as text, where it is bytes


#: Stability generative-models `WATERMARK_MESSAGE`, also used by diffusers' SDXL
#: pipelines; its bits are `bin(message)[2:]`.
SDXL_MESSAGE = 0b101100111110110010010000011110111011000110011110

KNOWN_WATERMARKS: tuple[KnownWatermark, ...] = (
    KnownWatermark(
        "stable_diffusion_v1",
        "Stable Diffusion 1.x reference scripts (CompVis txt2img/img2img)",
        bits_of_bytes(b"StableDiffusionV1"),
        _UINT8_READINGS,
        "StableDiffusionV1",
    ),
    KnownWatermark(
        "stable_diffusion_v2",
        "Stable Diffusion 2.x reference scripts (Stability-AI/stablediffusion)",
        bits_of_bytes(b"SDV2"),
        _UINT8_READINGS,
        "SDV2",
    ),
    KnownWatermark(
        "sdxl",
        "SDXL: Stability generative-models and diffusers SDXL pipelines",
        tuple(int(b) for b in bin(SDXL_MESSAGE)[2:]),
        # Stability and diffusers pass floats; 8-bit readings cover other embedders.
        ALL_READINGS,
    ),
    KnownWatermark(
        "invokeai",
        "InvokeAI 'Add Invisible Watermark' node, default text",
        bits_of_bytes(b"InvokeAI"),
        _UINT8_READINGS,
        "InvokeAI",
    ),
)
