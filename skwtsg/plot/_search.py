"""A search's ``cv_results_`` as the arguments of a weak-model selection plot."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..metrics import rank_weak_supervisors
from ..metrics._selection import _bound_scorer

__all__ = ["cv_results_inputs"]

_RECIPE = (
    'run the search with scoring={"bound": skwtsg.bound_scorer, '
    '"mse": "neg_mean_squared_error"} and refit="bound"'
)

#: Scorer names taken for the strong model's error when ``true_error=None``
#: and the search has several other scorers (first found wins).
_ERROR_SCORERS = ("mse", "strong_error", "neg_mean_squared_error")


def _short_value(value, width=32):
    """Short text for a parameter value (estimators print compactly)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= width else text[: width - 3] + "..."


class _EstimatorName(str):
    """Class name standing for an estimator-valued parameter."""


def _flat_params(params):
    """Parameters with estimator values expanded into their own parameters."""
    flat = {}
    for key, value in params.items():
        if hasattr(value, "get_params"):
            flat[key] = _EstimatorName(type(value).__name__)
            for sub, sub_value in value.get_params(deep=True).items():
                flat[f"{key}__{sub}"] = (
                    _EstimatorName(type(sub_value).__name__)
                    if hasattr(sub_value, "get_params")
                    else sub_value
                )
        else:
            flat[key] = value
    return flat


def _holds_estimators(value):
    """True for lists such as a Pipeline's ``steps`` (expanded elsewhere)."""
    if not isinstance(value, (list, tuple)):
        return False
    return any(
        hasattr(item, "get_params")
        or (isinstance(item, tuple) and any(hasattr(i, "get_params") for i in item))
        for item in value
    )


def _params_labels(all_params):
    """One label per ``cv_results_["params"]`` entry, from what varies.

    Estimator values are expanded into their parameters (``PCA(1)`` and
    ``PCA(3)`` give ``"n_components=1"`` and ``"n_components=3"``), or named
    by their class when it varies; labels that still coincide are numbered.
    """
    flats = [_flat_params(p) for p in all_params]
    keys = []
    for flat in flats:
        keys.extend(k for k in flat if k not in keys)
    varying = [
        k
        for k in keys
        if not any(_holds_estimators(f.get(k)) for f in flats)
        and len({_short_value(f[k], 200) for f in flats if k in f}) > 1
    ]

    def one(flat):
        parts = []
        for key in varying:
            if key not in flat:
                continue
            value = flat[key]
            if isinstance(value, _EstimatorName):
                parts.append(str(value))
            else:
                parts.append(f"{key.rsplit('__', 1)[-1]}={_short_value(value)}")
        return ", ".join(parts) or "default"

    labels = [one(flat) for flat in flats]
    if len(set(labels)) < len(labels):
        labels = [f"{i}: {label}" for i, label in enumerate(labels)]
    return labels


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
    bound_std, bound_ci = results.get("std_test_" + bound), None
    if confidence_level is not None:
        ranking = rank_weak_supervisors(
            results, bound=bound, confidence_level=confidence_level
        ).sort_values("position")
        bound_std = None
        bound_ci = ranking[["bound_low", "bound_high"]].to_numpy()
    return dict(
        bound=-np.asarray(results["mean_test_" + bound], dtype=float),
        true_error=true_error,
        bound_std=bound_std,
        true_error_std=true_error_std,
        labels=labels,
        bound_ci=bound_ci,
        error_bars=(
            None
            if bound_ci is None
            else f"{100 * confidence_level:g}% t interval over splits"
        ),
    )
