"""Bound against true error: choosing a weak supervisor (the paper's Tables 1-3)."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import is_classifier

from ..metrics import paired_bound_differences, weak_to_strong_report
from ._base import (
    _as_list,
    _BaseDisplay,
    _check_labels,
    _classifier_reports,
    _estimators_loss,
    _model_labels,
    _paired_arrays,
    _place_labels,
    _reference_style,
    _style,
    _weak_and_strong_predictions,
    axis_titles,
)
from ._records import selection_inputs
from ._search import cv_results_inputs

__all__ = ["WeakModelSelectionDisplay"]


def _optional_std(values, name, n):
    if values is None:
        return None
    values = np.asarray(values, dtype=float)
    if values.shape != (n,):
        raise ValueError(
            f"`{name}` must have one value per candidate ({n}); got shape "
            f"{values.shape}."
        )
    values = np.where(np.isnan(values), 0.0, values)
    if np.any(values < 0) or not np.all(np.isfinite(values)):
        raise ValueError(f"`{name}` must be finite and non-negative.")
    return values


def _optional_interval(values, name, center):
    """``(n, 2)`` intervals around ``center`` as matplotlib's ``(2, n)`` extents."""
    if values is None:
        return None
    n = center.shape[0]
    values = np.asarray(values, dtype=float)
    if values.shape != (n, 2):
        raise ValueError(
            f"`{name}` must hold one (low, high) pair per candidate, shape "
            f"({n}, 2); got shape {values.shape}."
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"`{name}` must be finite.")
    low, high = values[:, 0], values[:, 1]
    tol = 1e-9 * (1 + np.abs(center))  # a mean computed in another order
    if np.any(low > center + tol) or np.any(center > high + tol):
        raise ValueError(f"`{name}`: each interval must hold its candidate's value.")
    return np.maximum(np.vstack([center - low, high - center]), 0.0)


def _row_verdicts(y_true, y_weak, y_strong, **kwargs) -> list[str]:
    """Each candidate against the pick, paired over the rows, in words."""
    keys = [str(i) for i in range(len(y_weak))]
    table = paired_bound_differences(
        y_true, dict(zip(keys, y_weak)), dict(zip(keys, y_strong)), **kwargs
    )
    return table["verdict"].tolist()


def _bars_note(error_bars, bound_std, bound_ci):
    """The legend's word on what the horizontal error bars are."""
    if error_bars is not None:
        return f" (bars: {error_bars})"
    if bound_ci is not None:
        return " (bars: interval of the bound)"
    if bound_std is not None:
        return " (bars: ± 1 std over splits)"
    return ""


class WeakModelSelectionDisplay(_BaseDisplay):
    """Bound against true error of the strong model, one point per weak model.

    The paper's heuristic (Section 5.2, Tables 1-3) picks the candidate weak
    supervisor whose strong model has the smallest bound (weak error −
    misfit). This display draws each candidate's bound against its strong
    model's true error, marks the pick and the candidate with the lowest
    true error, and draws the line ``true error = bound``. Create it with
    :meth:`from_cv_results`, :meth:`from_estimator`,
    :meth:`from_predictions` or :meth:`from_results`. Read more in the
    :ref:`User Guide <plotting>`.

    Parameters
    ----------
    bound : array-like of shape (n_candidates,)
        Each candidate's bound (mean over splits).
    true_error : array-like of shape (n_candidates,)
        True error of each candidate's strong model (in ``loss``).
    bound_std : array-like of shape (n_candidates,), default=None
        Standard deviation of the bound over splits (horizontal error bars).
    true_error_std : array-like of shape (n_candidates,), default=None
        Standard deviation of the true error (vertical error bars).
    labels : array-like of shape (n_candidates,), default=None
        Name of each candidate, written next to its point.
    pick : int, default=None
        Index of the candidate the heuristic picks; ``None``: the smallest
        bound.
    bound_ci : array-like of shape (n_candidates, 2), default=None
        ``(low, high)`` interval of each bound, drawn instead of
        ``bound_std`` (e.g. from
        :func:`skwtsg.metrics.rank_weak_supervisors`).
    loss : {"squared", "kl"} or None, default="squared"
        The loss of the bounds and errors, named in the axis titles:
        ``"squared"`` (regressors), ``"kl"`` (classifiers: log-loss errors,
        KL misfit), ``None`` (not said).
    verdicts : array-like of shape (n_candidates,), default=None
        Each candidate's paired comparison with the pick in words (the
        ``verdict`` of :func:`skwtsg.metrics.paired_bound_differences` or
        :func:`skwtsg.metrics.rank_weak_supervisors`), written after its
        label.
    error_bars : str, default=None
        What the horizontal error bars are, said in the legend (e.g.
        ``"95% t interval over 15 splits"``); ``None``: "± 1 std" for
        ``bound_std``, "interval" for ``bound_ci``.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.
    errorbar_ : matplotlib ErrorbarContainer
        The points and their error bars.
    line_ : matplotlib Line2D
        The line ``true error = bound``.
    pick_, best_ : matplotlib Line2D
        Markers on the pick and on the lowest true error.
    annotations_ : list of matplotlib Text
        Candidate labels, placed so that no two overlap.
    pick_index_, best_index_ : int
        Indices of the pick and of the lowest true error.

    See Also
    --------
    GainMisfitDisplay : Gain against misfit, one point per task.

    Examples
    --------
    >>> from skwtsg.plot import WeakModelSelectionDisplay
    >>> display = WeakModelSelectionDisplay(
    ...     bound=[0.90, 0.97, 1.15], true_error=[1.07, 1.13, 1.19],
    ...     labels=["hidden=96", "hidden=48", "hidden=16"])
    >>> display.plot()
    <skwtsg.plot._selection.WeakModelSelectionDisplay object at ...>
    >>> display.pick_index_, display.best_index_
    (0, 0)
    """

    def __init__(
        self,
        *,
        bound: ArrayLike,
        true_error: ArrayLike,
        bound_std: ArrayLike | None = None,
        true_error_std: ArrayLike | None = None,
        labels: ArrayLike | None = None,
        pick: int | None = None,
        bound_ci: ArrayLike | None = None,
        loss: str | None = "squared",
        verdicts: ArrayLike | None = None,
        error_bars: str | None = None,
    ) -> None:
        self.loss, self.verdicts, self.error_bars = loss, verdicts, error_bars
        self.bound, self.bound_std, self.bound_ci = bound, bound_std, bound_ci
        self.true_error, self.true_error_std = true_error, true_error_std
        self.labels = labels
        self.pick = pick

    def plot(
        self,
        ax: Any = None,
        *,
        annotate: bool = True,
        legend: bool = True,
        errorbar_kwargs: dict | None = None,
        line_kwargs: dict | None = None,
    ) -> WeakModelSelectionDisplay:
        """Plot the true error against the bound.

        Every ``from_*`` constructor passes its other keywords here.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure.
        annotate : bool, default=True
            Write each candidate's label next to its point.
        legend : bool, default=True
            Draw a legend.
        errorbar_kwargs : dict, default=None
            Keywords of ``Axes.errorbar``.
        line_kwargs : dict, default=None
            Keywords of ``Axes.axline`` for the line ``true error = bound``.

        Returns
        -------
        display : WeakModelSelectionDisplay
            The object, with the artists stored in its attributes.
        """
        ax = self._start_plot(ax)
        titles = axis_titles(self.loss)
        bound, true_error = _paired_arrays(self, ("bound", "true_error"), "candidate")
        n = bound.shape[0]
        if np.any(true_error < 0):
            raise ValueError(
                "`true_error` must be non-negative (a mean of squares or a log-loss)."
            )
        bound_std = _optional_std(self.bound_std, "bound_std", n)
        bound_extent = _optional_interval(self.bound_ci, "bound_ci", bound)
        if bound_extent is not None:
            if bound_std is not None:
                raise ValueError(
                    "Give `bound_std` or `bound_ci` (both are horizontal error "
                    "bars), not both."
                )
            bound_std = bound_extent
        true_error_std = _optional_std(self.true_error_std, "true_error_std", n)
        labels = _check_labels(self.labels, n)
        if self.verdicts is not None:
            verdicts = _check_labels(self.verdicts, n, "verdicts")
            if labels is None:
                labels = np.array([f"model {i}" for i in range(n)], dtype=object)
            labels = np.array(
                [f"{label}: {v}" for label, v in zip(labels, verdicts)], dtype=object
            )
        if self.pick is None:
            pick = int(np.argmin(bound))
        elif isinstance(self.pick, Integral) and 0 <= self.pick < n:
            pick = int(self.pick)
        else:
            raise ValueError(
                f"`pick` must be None or an index in [0, {n}); got {self.pick!r}."
            )
        best = int(np.argmin(true_error))

        errorbar_style = _style(
            {
                "fmt": "o",
                "color": "tab:blue",
                "ecolor": "tab:blue",
                "elinewidth": 1.0,
                "capsize": 3,
                "markersize": 5,
                "alpha": 0.85,
                "label": "candidate weak models" + _bars_note(
                    self.error_bars, self.bound_std, self.bound_ci
                ),
            },
            errorbar_kwargs,
        )
        self.errorbar_ = ax.errorbar(
            bound, true_error, xerr=bound_std, yerr=true_error_std, **errorbar_style
        )
        self.pick_ = ax.plot(
            bound[pick],
            true_error[pick],
            linestyle="none",
            marker="o",
            markersize=14,
            markerfacecolor="none",
            markeredgecolor="tab:red",
            markeredgewidth=1.8,
            label="pick: smallest bound",
        )[0]
        self.best_ = ax.plot(
            bound[best],
            true_error[best],
            linestyle="none",
            marker="*",
            markersize=12,
            color="tab:orange",
            zorder=3,
            label="lowest true error",
        )[0]
        # The infinite line must not stretch the axes to its anchor point.
        data_limits = ax.dataLim.frozen()
        line_style = _reference_style("true error = bound", 0.6, line_kwargs)
        self.line_ = ax.axline((0.0, 0.0), slope=1.0, **line_style)
        ax.dataLim.set(data_limits)
        ax.autoscale_view()
        self._finish_plot(
            ax,
            xlabel=titles["bound"],
            ylabel=titles["strong_error"].replace(
                "Strong model error", "True error"
            )
            + " of the weakly-supervised strong model",
            legend=legend,
        )
        # Labels last: their overlap is judged with the final axis limits.
        self.annotations_ = (
            _place_labels(ax, bound, true_error, labels)
            if annotate and labels is not None
            else []
        )
        self.pick_index_ = pick
        self.best_index_ = best
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: ArrayLike,
        y_weak: list,
        y_strong: list,
        *,
        labels: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        confidence_level: float | None = None,
        random_state: Any = None,
        **plot_kwargs: Any,
    ) -> WeakModelSelectionDisplay:
        """Plot candidates from their predictions on held-out labelled rows.

        Each candidate's bound and true error (averaged over tasks) come from
        :func:`skwtsg.metrics.weak_to_strong_report`.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True labels.
        y_weak, y_strong : list of array-like of the shape of ``y_true``
            Each candidate's weak model's and strong model's predictions.
        labels : array-like of shape (n_candidates,), default=None
            Name of each candidate.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the means.
        confidence_level : float, default=None
            With a level such as 0.95, draw each bound's bootstrap interval
            over the rows as horizontal error bars.
        random_state : int, RandomState instance, Generator or None, \
                default=None
            Seeds the bootstrap.
        **plot_kwargs
            Keywords of :meth:`plot`.

        Returns
        -------
        display : WeakModelSelectionDisplay

        Examples
        --------
        >>> from skwtsg.plot import WeakModelSelectionDisplay
        >>> y = [0.0, 1.0, 2.0, 3.0]
        >>> display = WeakModelSelectionDisplay.from_predictions(
        ...     y, [[0.5, 1.5, 2.5, 3.5], [1.0, 0.0, 3.0, 2.0]],
        ...     [[0.2, 1.2, 2.2, 3.2], [0.5, 0.5, 2.5, 2.5]], labels=["a", "b"])
        >>> display.bound.round(2), display.true_error.round(2)
        (array([0.16, 0.75]), array([0.04, 0.25]))
        """
        if len(y_weak) != len(y_strong):
            raise ValueError(
                f"`y_weak` has {len(y_weak)} candidates but `y_strong` has "
                f"{len(y_strong)}; give one of each per candidate."
            )
        if not len(y_weak):
            raise ValueError("`y_weak` is empty: give at least one candidate.")
        reports = [
            weak_to_strong_report(
                y_true,
                weak,
                strong,
                sample_weight=sample_weight,
                confidence_level=confidence_level,
                random_state=random_state,
            )
            for weak, strong in zip(y_weak, y_strong)
        ]
        display = cls(
            bound=np.array([r["bound"] for r in reports], dtype=float),
            true_error=np.array([r["strong_error"] for r in reports], dtype=float),
            labels=labels,
            bound_ci=(
                None
                if confidence_level is None
                else np.array([r["bound_ci"] for r in reports], dtype=float)
            ),
            error_bars=(
                None
                if confidence_level is None
                else f"{100 * confidence_level:g}% bootstrap interval over rows"
            ),
            verdicts=None
            if confidence_level is None
            else _row_verdicts(
                y_true,
                y_weak,
                y_strong,
                sample_weight=sample_weight,
                confidence_level=confidence_level,
                random_state=random_state,
            ),
        )
        return display.plot(**plot_kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimators: list,
        X: ArrayLike,
        y: ArrayLike,
        *,
        labels: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        confidence_level: float | None = None,
        random_state: Any = None,
        **plot_kwargs: Any,
    ) -> WeakModelSelectionDisplay:
        """Plot fitted candidates evaluated on held-out labelled rows.

        Each estimator's ``predict_weak(X)`` and ``predict(X)`` are compared
        with ``y`` by :meth:`from_predictions`, whose parameters these are.
        Classifiers are compared in their own loss: the bound and the true
        error are log-losses and the misfit a KL divergence, as their
        ``bound_`` and ``strong_error_`` are measured.

        Parameters
        ----------
        estimators : list of WeakToStrongRegressor or WeakToStrongClassifier
            Fitted candidates (e.g. one per weak featurizer), all regressors
            or all classifiers.
        X : array-like of shape (n_samples, n_features)
            Held-out inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Their true labels.
        labels : array-like of shape (n_candidates,), default=None
            Name of each candidate; ``None`` writes ``"model 0"``, ...
        sample_weight, confidence_level, random_state
            See :meth:`from_predictions` (the models are held fixed).
        **plot_kwargs
            Keywords of :meth:`plot`.

        Returns
        -------
        display : WeakModelSelectionDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> from skwtsg import WeakToStrongRegressor
        >>> from skwtsg.plot import WeakModelSelectionDisplay
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(300, 6))
        >>> y = X @ rng.normal(size=6)
        >>> models = [
        ...     WeakToStrongRegressor(PCA(k), random_state=0).fit(X[:200], y[:200])
        ...     for k in (1, 3, 5)
        ... ]
        >>> display = WeakModelSelectionDisplay.from_estimator(
        ...     models, X[200:], y[200:], labels=["k=1", "k=3", "k=5"])
        >>> display.bound.shape
        (3,)
        """
        estimators = _as_list(estimators)
        if _estimators_loss(estimators) == "kl":
            if confidence_level is not None:
                raise ValueError(
                    "`confidence_level`: the intervals of this Display are of "
                    "squared errors; for classifiers use confidence_level=None."
                )
            reports = _classifier_reports(estimators, X, y, sample_weight)
            display = cls(
                bound=np.array([r["bound"] for r in reports]),
                true_error=np.array([r["strong_error"] for r in reports]),
                labels=_model_labels(labels, len(estimators)),
                loss="kl",
            )
            return display.plot(**plot_kwargs)
        y_weak, y_strong = _weak_and_strong_predictions(estimators, X)
        y_true = np.asarray(y, dtype=float)
        shape = y_true.shape
        return cls.from_predictions(
            y_true,
            [w.reshape(shape) for w in y_weak],
            [s.reshape(shape) for s in y_strong],
            labels=_model_labels(labels, len(estimators)),
            sample_weight=sample_weight,
            confidence_level=confidence_level,
            random_state=random_state,
            **plot_kwargs,
        )

    @classmethod
    def from_cv_results(
        cls,
        search: Any,
        *,
        bound: str | None = None,
        true_error: str | ArrayLike | None = None,
        labels: ArrayLike | None = None,
        confidence_level: float | None = None,
        loss: str | None = "auto",
        **plot_kwargs: Any,
    ) -> WeakModelSelectionDisplay:
        """Plot a search over weak supervisors scored with the bound.

        The search's candidates differ by their weak model; it is scored with
        :func:`skwtsg.bound_scorer` and the strong model's error, and picks
        by the bound (see the Examples and the :ref:`User Guide
        <selection>`). The bound is ``-mean_test_<bound>`` and the true error
        ``-mean_test_<true_error>``, with their standard deviations over
        splits as error bars.

        Parameters
        ----------
        search : fitted GridSearchCV or RandomizedSearchCV, or dict
            The search, or its ``cv_results_``.
        bound : str, default=None
            Name of the bound scorer; ``None``: ``"bound"`` for a
            multi-metric search, ``"score"`` for a single-metric one.
        true_error : str or array-like of shape (n_candidates,), default=None
            Name of the scorer whose negation is the strong model's error,
            or the true errors themselves. ``None``: the scorer named
            ``"mse"``, ``"strong_error"`` or ``"neg_mean_squared_error"``,
            else the search's only other scorer.
        labels : array-like of shape (n_candidates,), default=None
            Name of each candidate; ``None``: the parameters that vary.
        confidence_level : float, default=None
            With a level such as 0.95, the horizontal error bars are the
            t intervals of :func:`skwtsg.metrics.rank_weak_supervisors`.
        loss : {"auto", "squared", "kl"} or None, default="auto"
            The loss of the scores, for the axis titles. ``"auto"``: ``"kl"``
            for a search over a classifier, ``"squared"`` over a regressor,
            ``None`` (no loss named) for a ``cv_results_`` dict.
        **plot_kwargs
            Keywords of :meth:`plot`.

        Returns
        -------
        display : WeakModelSelectionDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> from sklearn.model_selection import GridSearchCV
        >>> import skwtsg
        >>> from skwtsg.plot import WeakModelSelectionDisplay
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(200, 6))
        >>> y = X @ rng.normal(size=6)
        >>> search = GridSearchCV(
        ...     skwtsg.WeakToStrongRegressor(random_state=0),
        ...     {"weak_featurizer": [PCA(1), PCA(3), PCA(5)]},
        ...     scoring={"bound": skwtsg.bound_scorer,
        ...              "mse": "neg_mean_squared_error"},
        ...     refit="bound", cv=3,
        ... ).fit(X, y)
        >>> display = WeakModelSelectionDisplay.from_cv_results(search)
        >>> bool(display.pick_index_ == search.best_index_)
        True
        """
        inputs = cv_results_inputs(
            search,
            bound=bound,
            true_error=true_error,
            labels=labels,
            confidence_level=confidence_level,
        )
        if loss == "auto":
            estimator = getattr(search, "estimator", None)
            loss = (
                None
                if estimator is None
                else "kl"
                if is_classifier(estimator)
                else "squared"
            )
        return cls(**inputs, loss=loss).plot(**plot_kwargs)

    @classmethod
    def from_results(cls, table: Any, **plot_kwargs: Any) -> WeakModelSelectionDisplay:
        """Plot a table like the paper's Tables 1-3.

        Parameters
        ----------
        table : DataFrame or str or path-like
            One row per weak model (:func:`skwtsg.experiments.selection_table`,
            or a CSV of it), read by
            :func:`skwtsg.experiments.selection_inputs`.
        **plot_kwargs
            Keywords of :meth:`plot`.

        Returns
        -------
        display : WeakModelSelectionDisplay

        Examples
        --------
        >>> import pandas as pd
        >>> from skwtsg.plot import WeakModelSelectionDisplay
        >>> table = pd.DataFrame({
        ...     "weak_model": ["hidden=32", "hidden=96", "hidden=64"],
        ...     "bound_mean": [-0.16, 1.09, 2.91],
        ...     "bound_std": [1.03, 1.01, 2.81],
        ...     "strong_error_mean": [5.00, 4.78, 3.84],
        ...     "strong_error_std": [0.57, 2.28, 0.59],
        ... })
        >>> display = WeakModelSelectionDisplay.from_results(table)
        >>> display.pick_index_, display.best_index_
        (0, 2)
        """
        return cls(**selection_inputs(table)).plot(**plot_kwargs)
