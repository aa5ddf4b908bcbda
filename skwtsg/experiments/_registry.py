"""The registry of experiments the command line knows: name -> Experiment.

A new experiment is one module (its cases, claims, notes and CLI options in
one :class:`Experiment`) plus one entry here.
"""

from __future__ import annotations

import os

from ._case import Experiment
from ._classification import CLASSIFICATION
from ._ensembles import ENSEMBLES
from ._essays import ESSAYS
from ._molecules import MOLECULES
from ._runner import run_experiment
from ._synthetic import SYNTHETIC

__all__ = ["EXPERIMENTS", "reproduce"]

#: Every experiment, by the name ``python -m skwtsg reproduce NAME`` takes.
EXPERIMENTS: dict[str, Experiment] = {
    "synthetic": SYNTHETIC,
    "molecules": MOLECULES,
    "essays": ESSAYS,
    "classification": CLASSIFICATION,
    "ensembles": ENSEMBLES,
}


def reproduce(
    name: str = "synthetic",
    *,
    out: str | os.PathLike | None = None,
    quick: bool = False,
    random_state: int = 0,
    verbose: bool = True,
    **options,
) -> dict:
    """Run one of the paper's reproductions by name.

    Parameters
    ----------
    name : {"synthetic", "molecules", "essays", "classification", "ensembles"}, \
            default="synthetic"
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
        The experiment's own options (e.g. ``panels`` for ``"synthetic"``,
        ``datasets`` and ``data_home`` for ``"molecules"``).

    Returns
    -------
    result : dict
        See :func:`skwtsg.experiments.run_experiment` (or the experiment's
        own ``run``).

    Examples
    --------
    >>> from skwtsg.experiments import reproduce
    >>> reproduce("nope")
    Traceback (most recent call last):
    ...
    ValueError: Unknown experiment 'nope'; choose from ['classification', ...]
    """
    if name not in EXPERIMENTS:
        raise ValueError(
            f"Unknown experiment {name!r}; choose from {sorted(EXPERIMENTS)}"
        )
    experiment = EXPERIMENTS[name]
    if experiment.run is not None:
        return experiment.run(
            out=out, quick=quick, random_state=random_state, verbose=verbose, **options
        )
    return run_experiment(
        experiment,
        out=out,
        quick=quick,
        random_state=random_state,
        verbose=verbose,
        **options,
    )
