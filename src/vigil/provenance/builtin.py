"""The built-in extractors in priority order: the first one's generation record wins
ties (generators first, then C2PA, XMP, watermarks, camera EXIF)."""

from vigil.provenance.base import Extractor


def builtin_extractors() -> list[type[Extractor]]:
    from vigil.provenance.c2pa import C2PAExtractor
    from vigil.provenance.camera import CameraExtractor
    from vigil.provenance.generators import GENERATOR_EXTRACTORS
    from vigil.provenance.watermark import InvisibleWatermarkExtractor
    from vigil.provenance.xmp import XMPExtractor

    return [
        *GENERATOR_EXTRACTORS,
        C2PAExtractor,
        XMPExtractor,
        InvisibleWatermarkExtractor,
        CameraExtractor,
    ]
