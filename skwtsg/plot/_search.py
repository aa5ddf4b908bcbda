"""A search's ``cv_results_`` as the arguments of a weak-model selection plot."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..metrics import rank_weak_supervisors
from ..metrics._labels import _params_labels
from ..metrics._selection import _bound_scorer

__all__ = ["cv_results_inputs"]

_RECIPE = (
    'run the search with scoring={"bound": skwtsg.bound_scorer, '
    '"mse": "neg_mean_squared_error"} and refit="bound"'
)

#: Scorer names taken for the strong model's error when ``true_error=None``
#: and the search has several other scorers (first found wins).
_ERROR_SCORERS = ("mse", "strong_error", "neg_mean_squared_error")


def _true_error_scorer(names: list, bound: str) -> str:
    """The scorer of the strong model's error, when the caller named none."""
    others = [name for name in names if name != bound]
    preferred = [name for name in _ERROR_SCORERS if name in others]
    if preferred:
        return preferred[0]
    if len(others) == 1:
        return others[0]
    if not others:
        raise ValueError(
            f"`true_error` is needed: the search has only the scorer {bound!r}; "
            f"{_RECIPE}, or pass the true errors as an array (one per candidate)."
        )
    raise ValueError(
        f"`true_error` is needed: the search has the scorers {others} besides "
        f"{bound!r}; name the one whose negation is the strong model's error, "
        f"e.g. true_error={others[0]!r}, or pass the true errors as an array "
        "(one per candidate)."
    )


def cv_results_inputs(
    search: Any,
    *,
    bound: str | None = None,
    true_error: str | ArrayLike | None = None,
    labels: ArrayLike | None = None,
    confidence_level: float | None = None,
) -> dict:
    """The display's arguments, from :meth:`WeakModelSelectionDisplay.from_cv_results
    <skwtsg.plot.WeakModelSelectionDisplay.from_cv_results>`'s.

    Examples
    --------
    >>> from skwtsg.plot._search import cv_results_inputs
    >>> results = {"mean_test_bound": [-0.5, -0.2], "std_test_bound": [0.1, 0.1],
    ...            "mean_test_mse": [-1.0, -1.2], "params": [{"k": 1}, {"k": 3}]}
    >>> inputs = cv_results_inputs(results)
    >>> inputs["bound"].tolist(), inputs["true_error"].tolist(), inputs["labels"]
    ([0.5, 0.2], [1.0, 1.2], ['k=1', 'k=3'])
    """
    results: dict | None
    if isinstance(search, dict):
        results = search
    else:
        results = getattr(search, "cv_results_", None)
        if results is None:
            raise ValueError(
                "`search` has no `cv_results_`: fit the search first, or "
                "pass its cv_results_ dict."
            )
    names, bound = _bound_scorer(results, bound, _RECIPE)
    n = len(results["mean_test_" + bound])
    true_error_std = None
    if true_error is None:
        true_error = _true_error_scorer(names, bound)
    if isinstance(true_error, str):
        if true_error not in names:
            raise ValueError(
                f"`true_error`: the search has no scorer named "
                f"{true_error!r} (it has {names}); pass one of them, e.g. "
                f'true_error="mse" for a scorer "mse": '
                '"neg_mean_squared_error".'
            )
        true_error_std = results.get("std_test_" + true_error)
        true_error = -np.asarray(results["mean_test_" + true_error], dtype=float)
    else:
        true_error = np.asarray(true_error, dtype=float)
        if true_error.shape != (n,):
            raise ValueError(
                f"`true_error` must have one value per candidate ({n}); got "
                f"shape {true_error.shape}."
            )
    if labels is None and "params" in results:
        labels = _params_labels(results["params"])
    bound_std, bound_ci, verdicts = results.get("std_test_" + bound), None, None
    if confidence_level is not None:
        ranking = rank_weak_supervisors(
            results, bound=bound, confidence_level=confidence_level
        ).sort_values("position")
        bound_std = None
        bound_ci = ranking[["bound_low", "bound_high"]].to_numpy()
        verdicts = ranking["verdict"].tolist()
    return dict(
        bound=-np.asarray(results["mean_test_" + bound], dtype=float),
        true_error=true_error,
        bound_std=bound_std,
        true_error_std=true_error_std,
        labels=labels,
        bound_ci=bound_ci,
        verdicts=verdicts,
        error_bars=(
            None
            if confidence_level is None
            else f"{100 * confidence_level:g}% t interval over splits"
        ),
    )
