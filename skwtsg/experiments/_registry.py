"""The registry of experiments the command line knows."""

from __future__ import annotations

from ._runner import run_experiment
from ._synthetic import SYNTHETIC

__all__ = ["EXPERIMENTS", "reproduce"]

EXPERIMENTS = {"synthetic": SYNTHETIC}


def reproduce(name="synthetic", *, out=None, quick=False, random_state=0, verbose=True,
              **options):
    """Run one of the paper's reproductions by name.

    Parameters
    ----------
    name : str, default="synthetic"
        A key of :data:`EXPERIMENTS`.
    out : str or path-like, default=None
        Output folder; ``None`` writes nothing.
    quick : bool, default=False
        Small sizes.
    random_state : int, default=0
        Seed.
    verbose : bool, default=True
        Progress bars.
    **options
        The experiment's own options (e.g. ``panels`` for ``"synthetic"``).

    Returns
    -------
    result : dict
        See :func:`skwtsg.experiments.run_experiment`.

    Examples
    --------
    >>> from skwtsg.experiments import reproduce
    >>> reproduce("nope")
    Traceback (most recent call last):
    ...
    ValueError: Unknown experiment 'nope'; choose from ['synthetic', ...]
    """
    if name not in EXPERIMENTS:
        raise ValueError(
            f"Unknown experiment {name!r}; choose from {sorted(EXPERIMENTS)}"
        )
    return run_experiment(EXPERIMENTS[name], out=out, quick=quick,
                          random_state=random_state, verbose=verbose, **options)
