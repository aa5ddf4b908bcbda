"""Hypothesis profiles for the property tests of the theory.

``skwtsg-ci`` (the default) keeps the folder under ~30 s and is deterministic
(``derandomize=True``), so CI cannot flake; ``skwtsg-thorough`` explores many
more examples. Pick one with ``HYPOTHESIS_PROFILE=skwtsg-thorough pytest
tests/properties``.
"""

import os

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the tests skip themselves with pytest.importorskip
    pass
else:
    settings.register_profile(
        "skwtsg-ci",
        deadline=None,
        max_examples=25,
        derandomize=True,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile(
        "skwtsg-thorough",
        deadline=None,
        max_examples=1000,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "skwtsg-ci"))
