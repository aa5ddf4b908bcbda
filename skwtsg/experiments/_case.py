"""One weak-to-strong problem, as the experiment runner consumes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._w2s import ROLES

__all__ = ["W2SCase", "ROLES"]

# Row roles understood by ``WeakToStrongRegressor.fit(..., roles=...)``:
# ``"weak"`` trains the weak model on true labels; ``"strong"`` rows are
# labelled by the weak model and train the strong head (their true labels, if
# any, are only used afterwards to measure the strong model's error on its
# training sample); ``"both"`` rows do both (the paper's molecular protocol,
# where weak labels are made on the weak model's own training inputs);
# ``"eval"`` rows are held out and every diagnostic is measured on them.


@dataclass
class W2SCase:
    """One weak-to-strong problem: rows with roles and candidate weak models.

    The runner fits, for each entry of ``weak_featurizers``,
    ``WeakToStrongRegressor(weak_featurizer, strong_featurizer, head=head,
    weak_head=weak_head).fit(X, y, roles=roles)`` and records the diagnostics
    of every task (column of ``y``).

    Parameters
    ----------
    name : str
        Identifies the case in outputs, e.g. ``"random122"`` or ``"2a"``.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Inputs of every row (all roles together).
    y : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        True labels; NaN is allowed on ``"strong"`` rows only.
    roles : ndarray of str of shape (n_samples,)
        One of :data:`ROLES` per row.
    strong_featurizer : transformer
        The strong representation ``h_s``.
    weak_featurizers : dict of str to transformer
        Candidate weak representations ``h_w``, keyed by a label used in
        tables and legends (e.g. ``"hidden=16"``).
    head, weak_head : regressor or None
        Heads passed to ``WeakToStrongRegressor``.
    task_names : list of str or None
        Names of the columns of ``y``; default ``task0, task1, ...``.
    group : str
        Coarser grouping for tables and figures (e.g. the dataset name).
    meta : dict
        Anything else worth recording (sizes, seeds, notes).
    """

    name: str
    X: Any
    y: np.ndarray
    roles: np.ndarray
    strong_featurizer: Any
    weak_featurizers: dict[str, Any]
    head: Any = None
    weak_head: Any = None
    task_names: list[str] | None = None
    group: str = ""
    meta: dict = field(default_factory=dict)
