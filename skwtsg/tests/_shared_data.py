"""Where the tests find the real data: ``$SKWTSG_DATA``, else ``../shared/data``.

CI clones the repository with a copy of ``shared/`` beside it; a test that
needs a file skips, with the reason, when neither place has it, and fails
instead under ``SKWTSG_REQUIRE_DATA=1`` (set by ``.ci/run``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ._optional import REQUIRE_DATA_ENV, require_data

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
        missing_data(required)
    return home  # type: ignore[return-value]


def _missing_reason(required: str) -> str:
    return (
        f"{required} not found under $SKWTSG_DATA nor "
        f"{REPO_ROOT.parent / 'shared' / 'data'}"
    )


def missing_data(required: str) -> None:
    """Skip (or, under ``SKWTSG_REQUIRE_DATA=1``, fail) for a missing file."""
    if require_data():
        pytest.fail(f"{REQUIRE_DATA_ENV}=1 but {_missing_reason(required)}", False)
    pytest.skip(_missing_reason(required))


def data_mark(required: str) -> pytest.MarkDecorator:
    """A module's ``pytestmark``: skip its tests when ``required`` is missing,
    or, under ``SKWTSG_REQUIRE_DATA=1``, fail their collection."""
    missing = shared_data_home(required) is None
    if missing and require_data():
        missing_data(required)
    return pytest.mark.skipif(missing, reason=_missing_reason(required))
