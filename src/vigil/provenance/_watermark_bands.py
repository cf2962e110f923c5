"""Agreement bands for invisible-watermark decodes, from a binomial null model (an
unmarked image agrees with each bit by chance, p = 1/2), anchored on the SDXL bands of
the provenance issue. See `vigil.provenance.watermark`."""

import dataclasses
import enum
import math
import typing as t

from vigil.provenance.base import Strength


class Band(enum.StrEnum):
    """How strongly a decode agrees with a known message."""

    NONE = "none"
    PARTIAL = "partial"
    LIKELY = "likely"
    VERY_LIKELY = "very_likely"


@dataclasses.dataclass(frozen=True)
class BandThresholds:
    """Least number of agreeing bits for each band."""

    partial: int
    likely: int
    very_likely: int

    def band(self, agreeing: int) -> Band:
        if agreeing >= self.very_likely:
            return Band.VERY_LIKELY
        if agreeing >= self.likely:
            return Band.LIKELY
        if agreeing >= self.partial:
            return Band.PARTIAL
        return Band.NONE


def binomial_tail(bits: int, agreeing: int) -> float:
    """P(X >= agreeing) for X ~ Binomial(bits, 1/2): the chance that an unmarked image
    agrees with at least `agreeing` of `bits` message bits."""
    chances = sum(math.comb(bits, k) for k in range(agreeing, bits + 1))
    return chances / (1 << bits)


def binomial_threshold(bits: int, tail: float) -> int:
    """The least agreement whose chance tail is at most `tail`."""
    return next(k for k in range(bits + 2) if binomial_tail(bits, k) <= tail)


#: The bands of the provenance issue for the 48-bit SDXL message (also those of
#: Stability's generative-models watermark detector): <=27 none, 28-33 partial,
#: 34-35 likely, >=36 very likely.
SDXL_BANDS = BandThresholds(partial=28, likely=34, very_likely=36)
#: Null model: an unmarked image agrees with each message bit by chance (p = 1/2,
#: independently). The SDXL bands start at these chance tails P(X >= k), X ~ B(48, 1/2):
NULL_TAIL_PARTIAL = binomial_tail(48, SDXL_BANDS.partial)  # 0.156
NULL_TAIL_LIKELY = binomial_tail(48, SDXL_BANDS.likely)  # 0.00276
NULL_TAIL_VERY_LIKELY = binomial_tail(48, SDXL_BANDS.very_likely)  # 0.000359
#: Every other length n gets the same tails: each band starts at
#: `binomial_threshold(n, NULL_TAIL_...)` (tests/provenance/test_watermark.py
#: recomputes this table). Their chance tails: 32 bits 0.108/0.00105/0.000268;
#: 64 bits 0.130/0.00184/0.000309; 136 bits 0.132/0.00224/0.000199. A decode makes
#: 10 tests (each message in each of its readings), so the chance of any "very
#: likely" on an unmarked image is at most 10 x 0.00036 = 0.36% under this model.
BAND_THRESHOLDS: t.Mapping[int, BandThresholds] = {
    32: BandThresholds(partial=20, likely=25, very_likely=26),
    48: SDXL_BANDS,
    64: BandThresholds(partial=37, likely=44, very_likely=46),
    136: BandThresholds(partial=75, likely=85, very_likely=89),
}


#: Evidence strength per band (the provenance issue); lower bands give no evidence.
REPORTED_BANDS: t.Mapping[Band, Strength] = {
    Band.VERY_LIKELY: Strength.STRONG,
    Band.LIKELY: Strength.WEAK,
}
