"""Hypothesis profiles for the property tests of the theory.

``skwtsg-ci`` (the default) runs 200 examples of a cheap property and a
share of them (``EXAMPLES // 4``, ``// 2``) of a costly one (each module
says which), and is deterministic (``derandomize=True``), so CI cannot
flake. ``skwtsg-long`` (``make test-long``) draws fresh examples each run,
five times as many; ``skwtsg-thorough`` more still. Pick one with
``HYPOTHESIS_PROFILE=skwtsg-long pytest tests/properties``.
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
        max_examples=200,
        derandomize=True,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile(
        "skwtsg-long",
        deadline=None,
        max_examples=1000,
        derandomize=False,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile(
        "skwtsg-thorough",
        deadline=None,
        max_examples=5000,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "skwtsg-ci"))
