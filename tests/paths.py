"""Where the tests' data lies (a module of its own: test modules import it, never
`conftest`, whose name several test folders share)."""

import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[1]
# VIGIL_SHARED_DIR lets a run pretend ../shared is elsewhere (or absent).
SHARED = pathlib.Path(os.environ.get("VIGIL_SHARED_DIR", REPO.parent / "shared"))
DATA = REPO / "tests" / "data"
