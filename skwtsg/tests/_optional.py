"""Which doctests need an optional extra, and what is missing to run them.

``skwtsg[dev]`` alone (the core dependencies and the test tools) must give a
green suite: a doctest that needs torch, RDKit, sentence-transformers or
matplotlib is skipped there, with the install command as the reason, by the
``pytest_collection_modifyitems`` hook of ``skwtsg/conftest.py``. Tests
(``test_*.py``) say what they need themselves with ``pytest.importorskip``.

Every doctest not listed here must pass with the core dependencies only:
``make test-core`` (run by ``.ci/run``) checks it, and
``skwtsg/tests/test_optional.py`` checks that each entry still names a
module or object that exists.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

#: Import name -> the extra of ``pyproject.toml`` that installs it.
EXTRA_OF = {
    "torch": "torch",
    "skorch": "torch",
    "tqdm": "torch",
    "rdkit": "chem",
    "sentence_transformers": "text",
    "matplotlib": "plot",
}

#: Dotted prefix of a doctest's name (a module, or an object in it) -> the
#: packages its examples import, directly or through the code they run. The
#: longest matching prefix wins.
DOCTEST_NEEDS: dict[str, tuple[str, ...]] = {
    "skwtsg.datasets._synthetic.make_synthetic_labels": ("torch",),
    "skwtsg.datasets._synthetic.make_synthetic_tasks": ("torch",),
    "skwtsg.featurizers._molecules.MorganFingerprintFeaturizer": ("rdkit",),
    "skwtsg.featurizers._molecules.RDKitDescriptorFeaturizer": ("rdkit",),
    "skwtsg.featurizers._nets": ("torch",),
    "skwtsg.featurizers._perturb": ("torch",),
    "skwtsg.featurizers._pretrain": ("torch",),
    "skwtsg.featurizers._skorch": ("torch", "skorch"),
    "skwtsg.featurizers._smiles.SmilesTransformerFeaturizer": ("torch", "rdkit"),
    "skwtsg.featurizers._torch": ("torch",),
    "skwtsg.heads._gradient": ("torch",),
    "skwtsg.plot": ("matplotlib",),
}


def needed_by(name: str) -> tuple[str, ...]:
    """Packages the doctest called ``name`` needs (longest matching prefix)."""
    best = ""
    for prefix in DOCTEST_NEEDS:
        if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(
            best
        ):
            best = prefix
    return DOCTEST_NEEDS.get(best, ())


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def skip_reason(name: str, installed: Callable[[str], bool] = _installed) -> str | None:
    """Why the doctest ``name`` cannot run here, or None when it can."""
    missing = [p for p in needed_by(name) if not installed(p)]
    if not missing:
        return None
    extras = ",".join(sorted({EXTRA_OF[p] for p in missing}))
    return f"needs {', '.join(missing)} (optional): pip install 'skwtsg[{extras}]'"


#: Set to 1 by ``make test``, which installs every extra: a missing one fails
#: instead of skipping.
REQUIRE_ALL_ENV = "SKWTSG_REQUIRE_ALL"

#: Set to 1 by ``.ci/run``, whose checkout has the shared data beside it: a
#: missing data file fails instead of skipping. Unset on a user's machine,
#: where ``make test`` skips the tests of data it cannot find.
REQUIRE_DATA_ENV = "SKWTSG_REQUIRE_DATA"

#: Modules a test may still skip without under :data:`REQUIRE_ALL_ENV`: not
#: an extra of skwtsg (the standard library of a newer Python).
MAY_BE_MISSING = frozenset({"tomllib"})


def require_all() -> bool:
    """Whether missing extras fail the tests (``SKWTSG_REQUIRE_ALL=1``)."""
    import os

    return os.environ.get(REQUIRE_ALL_ENV, "") == "1"


def require_data() -> bool:
    """Whether missing data files fail the tests (``SKWTSG_REQUIRE_DATA=1``)."""
    import os

    return os.environ.get(REQUIRE_DATA_ENV, "") == "1"


def strict_importorskip(importorskip: Callable) -> Callable:
    """``pytest.importorskip`` that fails, under :func:`require_all`, when the
    module is missing (its reason kept in the message)."""

    def wrapper(modname: str, *args, **kwargs):
        import pytest

        try:
            return importorskip(modname, *args, **kwargs)
        except pytest.skip.Exception as skip:
            if not require_all() or modname.split(".")[0] in MAY_BE_MISSING:
                raise
            pytest.fail(
                f"{REQUIRE_ALL_ENV}=1 but {modname!r} cannot be imported "
                f"({skip}): install skwtsg[all,dev,docs] or run `make test-core`.",
                pytrace=False,
            )

    wrapper.__wrapped__ = importorskip  # type: ignore[attr-defined]
    return wrapper
