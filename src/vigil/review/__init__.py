"""Review: the assessment taxonomy and the versioned tables that derive every scheme.

Pure domain code: the standard library only, no store or adapters.
"""

from vigil.review.mappings import (
    CURRENT_VERSION,
    PUBLISHED,
    Derived,
    LegalRoute,
    Mapping,
    MappingError,
    NCMECClass,
    ProjectVICCategory,
    UKCategory,
    derive,
    load_mapping,
    mapping,
    versions,
)
from vigil.review.taxonomy import (
    Act,
    AgeBand,
    AIGenerated,
    ChildDepicted,
    NotCriminalReason,
    ObservationError,
    Observations,
    Outcome,
    Realism,
    Sex,
    check,
)

__all__ = [
    "CURRENT_VERSION",
    "PUBLISHED",
    "AIGenerated",
    "Act",
    "AgeBand",
    "ChildDepicted",
    "Derived",
    "LegalRoute",
    "Mapping",
    "MappingError",
    "NCMECClass",
    "NotCriminalReason",
    "ObservationError",
    "Observations",
    "Outcome",
    "ProjectVICCategory",
    "Realism",
    "Sex",
    "UKCategory",
    "check",
    "derive",
    "load_mapping",
    "mapping",
    "versions",
]
