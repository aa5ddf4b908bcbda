"""Shared plumbing of the Displays: input checks, styles, axes and labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

try:  # scikit-learn >= 1.6 keeps it here; older versions in sklearn.utils
    from sklearn.utils._optional_dependencies import check_matplotlib_support
except ImportError:  # pragma: no cover - depends on the installed scikit-learn
    from sklearn.utils import check_matplotlib_support

try:  # private in scikit-learn (>= 1.5): imported defensively
    from sklearn.utils._plotting import _validate_style_kwargs
except ImportError:  # pragma: no cover - depends on the installed scikit-learn

    def _validate_style_kwargs(default_style_kwargs, user_style_kwargs):
        return {**default_style_kwargs, **user_style_kwargs}


__all__ = ["AXIS_TITLES", "axis_titles", "check_matplotlib_support"]

#: Axis titles of the diagnostics of a regressor (errors are mean squared errors).
AXIS_TITLES = {
    "misfit": "Misfit: mean (strong − weak)²",
    "gain": "Gain: weak error − strong error (MSE)",
    "weak_error": "Weak model error (MSE)",
    "strong_error": "Strong model error (MSE)",
    "bound": "Bound: weak error − misfit (MSE)",
    "epsilon": "ε: error of the strong head fitted on the truth (MSE)",
    "epsilon_ratio": "ε / weak error",
}

#: The same for a classifier: errors are log-losses (KL to the true class),
#: the misfit a mean KL divergence (Theorem 1 in KL form).
_KL_TITLES = {
    "misfit": "Misfit: mean KL(weak ‖ strong)",
    "gain": "Gain: weak error − strong error (log-loss)",
    "weak_error": "Weak model error (log-loss)",
    "strong_error": "Strong model error (log-loss)",
    "bound": "Bound: weak error − misfit (log-loss)",
}

#: A Display's ``loss``: the squared error of a regressor, the KL divergence
#: (log-loss against labels) of a classifier, or None when it is not known
#: (axis titles then name no loss).
LOSSES = ("squared", "kl", None)


def axis_titles(loss: str | None) -> dict[str, str]:
    """Axis titles of the diagnostics measured with ``loss`` (see ``LOSSES``).

    Examples
    --------
    >>> from skwtsg.plot._base import axis_titles
    >>> axis_titles("kl")["bound"]
    'Bound: weak error − misfit (log-loss)'
    >>> axis_titles(None)["bound"]
    'Bound: weak error − misfit'
    """
    if loss not in LOSSES:
        raise ValueError(f"`loss` must be one of {LOSSES}; got {loss!r}.")
    if loss == "kl":
        return _KL_TITLES
    if loss is None:
        return {k: v.replace(" (MSE)", "") for k, v in AXIS_TITLES.items()}
    return AXIS_TITLES


def _estimators_loss(estimators: list) -> str:
    """``"kl"`` for fitted weak-to-strong classifiers, ``"squared"`` for regressors.

    A classifier's diagnostics are KL divergences and log-losses: a Display
    computed from its hard labels with squared errors would not be its
    diagnostics (the gain can even change sign), so a mix is refused.
    """
    kinds = [
        "kl" if callable(getattr(e, "predict_weak_proba", None)) else "squared"
        for e in estimators
    ]
    if len(set(kinds)) > 1:
        raise ValueError(
            "`estimators` mixes classifiers (KL diagnostics) and regressors "
            "(squared errors): their diagnostics are in different losses; plot "
            "them separately."
        )
    return kinds[0]


def _classifier_reports(estimators: list, X, y, sample_weight) -> list[dict]:
    """Each fitted classifier's KL diagnostics on ``(X, y)``, as it measures them.

    From its (smoothed) weak and strong class probabilities, by
    :func:`skwtsg.metrics.weak_to_strong_classification_report`: the loss
    of the estimator's own ``misfit_``, ``gain_`` and ``bound_``.
    """
    from sklearn.utils.validation import check_is_fitted

    from ..metrics import weak_to_strong_classification_report

    reports = []
    for estimator in estimators:
        check_is_fitted(estimator)
        reports.append(
            weak_to_strong_classification_report(
                y,
                estimator.predict_weak_proba(X),
                estimator.predict_proba(X),
                labels=getattr(estimator, "classes_", None),
                sample_weight=sample_weight,
            )
        )
    return reports


class _BaseDisplay:
    """Plumbing shared by the Displays; ``from_*`` pass other keywords to ``plot``."""

    def _start_plot(self, ax: Any) -> Any:
        """Check matplotlib and return ``ax`` or the Axes of a new figure."""
        try:
            check_matplotlib_support(f"{type(self).__name__}.plot")
        except ImportError as exc:
            raise ImportError(f"{exc} or `pip install skwtsg[plot]`.") from exc
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        return ax

    def _finish_plot(self, ax: Any, *, xlabel: str, ylabel: str, legend: bool):
        """Label the axes, draw the legend and store ``ax_`` and ``figure_``."""
        ax.set(xlabel=xlabel, ylabel=ylabel)
        if legend:
            ax.legend(loc="best", fontsize="small", frameon=False)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _style(defaults: dict, user: dict | None) -> dict:
    """User style keywords over defaults; a user's alias (``c``) replaces ``color``."""
    return _validate_style_kwargs(defaults, user or {})


def _as_1d_float(values: ArrayLike, name: str) -> np.ndarray:
    """Validate a finite 1-D float array, naming ``name`` in errors."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must be numeric: {exc}") from exc
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D; got shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"`{name}` is empty: there is nothing to plot.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return array


def _paired_arrays(display, names, what: str):
    """The display's attributes ``names`` as 1-D floats of one length each."""
    first, *others = (_as_1d_float(getattr(display, n), n) for n in names)
    for name, values in zip(names[1:], others):
        if values.shape != first.shape:
            raise ValueError(
                f"`{name}` has {values.shape[0]} values but `{names[0]}` has "
                f"{first.shape[0]}; give one of each per {what}."
            )
    return [first, *others]


def _reference_style(label: str, alpha: float, user: dict | None) -> dict:
    """A dashed black reference line's style, under the user's keywords."""
    defaults = {"color": "black", "alpha": alpha, "linestyle": "--", "linewidth": 1.0}
    return _style({**defaults, "label": label}, user)


def _check_labels(labels: Any, n_points: int, name: str = "labels"):
    """Return one label per point (an object array) or None."""
    if labels is None:
        return None
    if isinstance(labels, str):
        return np.full(n_points, labels, dtype=object)
    labels = np.asarray(labels, dtype=object)
    if labels.ndim != 1 or labels.shape[0] != n_points:
        raise ValueError(
            f"`{name}` must be a string or have one entry per point "
            f"({n_points}); got shape {labels.shape}."
        )
    return labels


def _groups(labels, n_points: int):
    """(label, mask) pairs in order of first appearance; one unnamed group."""
    if labels is None:
        return [(None, np.ones(n_points, dtype=bool))]
    order = pd.unique(pd.Series(labels, dtype=object))
    return [(label, labels == label) for label in order]


def _model_labels(labels, n_models: int, name: str = "estimators"):
    """One label per model: ``None`` names several ``"model 0"``, ..."""
    if labels is None:
        return None if n_models == 1 else [f"model {i}" for i in range(n_models)]
    if isinstance(labels, str):
        return [labels] * n_models
    labels = list(labels)
    if len(labels) != n_models:
        raise ValueError(
            f"`labels` has {len(labels)} entries for {n_models} {name}; give "
            "one per model."
        )
    return labels


def _as_list(estimators: Any) -> list:
    if isinstance(estimators, (list, tuple)):
        if not estimators:
            raise ValueError("`estimators` is empty: give at least one.")
        return list(estimators)
    return [estimators]


def _weak_and_strong_predictions(estimators: list, X: ArrayLike):
    """``predict_weak(X)`` and ``predict(X)`` of fitted estimators, as 2-D arrays."""
    from sklearn.utils.validation import check_is_fitted

    y_weak, y_strong = [], []
    for i, estimator in enumerate(estimators):
        check_is_fitted(estimator)
        for method in ("predict", "predict_weak"):
            if not callable(getattr(estimator, method, None)):
                raise TypeError(
                    f"`estimators[{i}]` ({type(estimator).__name__}) has no "
                    f"`{method}` method; pass fitted WeakToStrongRegressor "
                    "instances."
                )
        weak = np.asarray(estimator.predict_weak(X), dtype=float)
        strong = np.asarray(estimator.predict(X), dtype=float)
        y_weak.append(weak.reshape(weak.shape[0], -1))
        y_strong.append(strong.reshape(strong.shape[0], -1))
    return y_weak, y_strong


def _place_labels(ax: Any, xs, ys, texts, *, fontsize="small") -> list:
    """Annotate points, left to right, each at the first offset around it
    whose box meets no label already placed (greedy, in pixels)."""
    renderer = ax.figure.canvas.get_renderer()
    offsets = [(6, 5), (6, -11), (-6, 5), (-6, -11)]
    offsets += [(dx, dy * k) for k in (2, 3, 4) for dx, dy in offsets]
    placed_boxes: list = []
    annotations: list = [None] * len(texts)
    for i in np.argsort(np.asarray(xs, dtype=float), kind="stable"):
        for dx, dy in offsets:
            note = ax.annotate(
                str(texts[i]),
                (xs[i], ys[i]),
                xytext=(dx, dy),
                textcoords="offset points",
                ha="left" if dx > 0 else "right",
                fontsize=fontsize,
            )
            box = note.get_window_extent(renderer).expanded(1.05, 1.1)
            if not any(box.overlaps(other) for other in placed_boxes):
                break
            if (dx, dy) != offsets[-1]:
                note.remove()
        placed_boxes.append(box)
        annotations[i] = note
    return annotations
