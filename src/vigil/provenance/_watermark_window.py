"""Which pixels the invisible-watermark reader reads: the block grid, the bounded
read area (whole images up to 1 MP of blocks, else a band of whole block rows through
the middle), and the window of pixels converted for it.

Separate from the decoder so that the bound on its cost is one small module.
"""

import dataclasses

import numpy as np
import numpy.typing as npt
from PIL import Image

UInt8Array = npt.NDArray[np.uint8]

#: imwatermark's dwtDct quantisation step and block side (EmbedMaxDct defaults:
#: scales=[0, 36, 36] with only channels 0 and 1 visited, so only U is marked).
SCALE = 36.0
BLOCK = 4
#: One DWT level halves each side, and each block is BLOCK coefficients wide: a block
#: covers this many pixels along each side.
BLOCK_PIXELS = 2 * BLOCK
#: imwatermark's encoder refuses images under 256x256 pixels, so none carries its mark.
MIN_WATERMARK_PIXELS = 256 * 256
#: Pixels of blocks read per image: 1024x1024 is the largest native output of SD 1.x
#: (512x512), 2.x (768x768) and SDXL (1024x1024; none of its aspect buckets, 2048x512
#: to 512x2048, has more pixels), so those images are read whole and decode exactly
#: as imwatermark decodes them. 16,384 blocks repeat even the 136-bit message 120
#: times. (It was 2048x2048, 4x the work; the benchmark's images are 1024x1024 at
#: most, so its results are the same.)
MAX_WATERMARK_PIXELS = 1024 * 1024
#: The same bound in blocks: one block per BLOCK_PIXELS x BLOCK_PIXELS pixels.
MAX_WATERMARK_BLOCKS = MAX_WATERMARK_PIXELS // (BLOCK_PIXELS * BLOCK_PIXELS)
#: Pixel rows (columns, for part of a row) beyond a band that the inverse chroma
#: filter of lossy files also sees, so that the band's cut edges do not disturb it:
#: the filter's impulse response falls by 3 - 2 sqrt(2) ~ 0.17 per Haar coefficient
#: (2 pixels), and 16 pixels (8 coefficients) leave under 1e-6 of the jump at a cut.
#: Even, to keep the Haar cells.
UNSMOOTH_MARGIN_PIXELS = 16


@dataclasses.dataclass(frozen=True)
class ReadArea:
    """The blocks read: `rows` block rows from block row `top`, each `cols` blocks
    from block column `left`, of an image `grid_cols` blocks wide. Whole rows unless
    one row holds more than MAX_WATERMARK_BLOCKS (then `rows` is 1), so either way a
    run of consecutive blocks of imwatermark's raster order, from block `first`."""

    top: int
    left: int
    rows: int
    cols: int
    grid_cols: int

    @classmethod
    def whole(cls, width: int, height: int) -> "ReadArea":
        grid_cols = width // BLOCK_PIXELS
        return cls(0, 0, height // BLOCK_PIXELS, grid_cols, grid_cols)

    @property
    def first(self) -> int:
        return self.top * self.grid_cols + self.left

    @property
    def blocks(self) -> int:
        return self.rows * self.cols


def read_area(width: int, height: int) -> ReadArea:
    """The blocks read from a `width` x `height` image: all of them within
    MAX_WATERMARK_BLOCKS; else as many whole block rows as fit, from the middle; or,
    where one row is over the cap, the middle of the middle row."""
    whole = ReadArea.whole(width, height)
    if whole.blocks <= MAX_WATERMARK_BLOCKS:
        return whole
    grid_rows, grid_cols = whole.rows, whole.cols
    rows = MAX_WATERMARK_BLOCKS // grid_cols
    if rows:
        return ReadArea((grid_rows - rows) // 2, 0, rows, grid_cols, grid_cols)
    left = (grid_cols - MAX_WATERMARK_BLOCKS) // 2
    return ReadArea(grid_rows // 2, left, 1, MAX_WATERMARK_BLOCKS, grid_cols)


@dataclasses.dataclass(frozen=True, eq=False)
class Window:
    """The pixels an image is read from: `rgb`, an (H, W, 3) uint8 RGB array, holds
    `area`'s blocks from pixel row `row`, column `col`, and around them whatever the
    inverse chroma filter of lossy files needs to see."""

    rgb: UInt8Array
    area: ReadArea
    row: int = 0
    col: int = 0

    @classmethod
    def whole(cls, rgb: UInt8Array) -> "Window":
        """All of `rgb`, as imwatermark reads an image."""
        return cls(rgb, ReadArea.whole(rgb.shape[1], rgb.shape[0]))

    @property
    def is_whole(self) -> bool:
        height, width = self.rgb.shape[:2]
        origin = (self.row, self.col) == (0, 0)
        return origin and self.area == ReadArea.whole(width, height)

    def read_box(self) -> tuple[int, int, int, int]:
        """Left, top, width and height of the part of the image read, in pixels."""
        height, width = self.rgb.shape[:2]
        if self.is_whole:
            return 0, 0, width, height
        area = self.area
        side = BLOCK_PIXELS
        return area.left * side, area.top * side, area.cols * side, area.rows * side


def window_pixels(image: Image.Image) -> Window:
    """The pixels of the first frame read for `read_area`, as RGB (alpha dropped, not
    composited, as `cv2.imread` does), in stored orientation: the whole image where
    all of it is read, else the area and UNSMOOTH_MARGIN_PIXELS around it where the
    image goes on. Only that part is converted."""
    width, height = image.size
    area = read_area(width, height)
    if area.blocks == 0:  # under one block high or wide: nothing to read
        return Window(np.zeros((0, 0, 3), np.uint8), area)
    side, margin = BLOCK_PIXELS, UNSMOOTH_MARGIN_PIXELS
    if area == ReadArea.whole(width, height):
        box = (0, 0, width, height)
    elif area.cols == area.grid_cols:  # whole rows: the full width, margin rows
        top, bottom = area.top * side - margin, (area.top + area.rows) * side + margin
        box = (0, max(0, top), width, min(height, bottom))
    else:  # part of one row: margins all round
        top, bottom = area.top * side - margin, (area.top + 1) * side + margin
        left, right = area.left * side - margin, (area.left + area.cols) * side + margin
        box = (max(0, left), max(0, top), min(width, right), min(height, bottom))
    if box != (0, 0, width, height):
        image = image.crop(box)
    if image.mode != "RGB":
        image = image.convert("RGB")
    rgb = np.asarray(image, dtype=np.uint8)
    return Window(rgb, area, area.top * side - box[1], area.left * side - box[0])
