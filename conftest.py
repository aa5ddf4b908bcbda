"""Run by pytest before any test of the repository (``skwtsg/``, ``tests/``,
the README's doctests).

``make test`` sets ``SKWTSG_REQUIRE_ALL=1``: there every extra must be
present (the Makefile installs them), so ``pytest.importorskip`` of a missing
module fails the test instead of skipping it (see
``skwtsg/tests/_optional.py``); ``make test-core`` leaves it unset and the
tests of the extras skip. ``.ci/run`` also sets ``SKWTSG_REQUIRE_DATA=1``
(its checkout has the shared data beside it): a missing data file fails.
"""

import pytest

from skwtsg.tests._optional import require_all, strict_importorskip

if require_all():
    pytest.importorskip = strict_importorskip(pytest.importorskip)
