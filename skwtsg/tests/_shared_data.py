"""Where the tests find the real data: ``$SKWTSG_DATA``, else ``../shared/data``.

CI clones the repository with a copy of ``shared/`` beside it; a test that
needs a file skips, with the reason, when neither place has it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data_home(required: str | None = None) -> Path | None:
    """The first existing data folder holding ``required`` (relative), or None."""
    shared = REPO_ROOT.parent / "shared" / "data"
    for candidate in (os.environ.get("SKWTSG_DATA"), shared):
        if candidate and (Path(candidate) / (required or "")).exists():
            return Path(candidate)
    return None


def require_data_home(required: str) -> Path:
    """The data folder holding ``required``; skip the calling test if none does."""
    home = shared_data_home(required)
    if home is None:
        pytest.skip(
            f"{required} not found under $SKWTSG_DATA nor "
            f"{REPO_ROOT.parent / 'shared' / 'data'}"
        )
    return home
