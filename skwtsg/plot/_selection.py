"""Bound against true error: choosing a weak supervisor (the paper's Tables 1-3)."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..metrics import weak_to_strong_report
from ._base import (
    AXIS_TITLES,
    _as_1d_float,
    _as_list,
    _BaseDisplay,
    _check_labels,
    _check_same_length,
    _model_labels,
    _place_labels,
    _style,
    _weak_and_strong_predictions,
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


class WeakModelSelectionDisplay(_BaseDisplay):
    """Bound against true error of the strong model, one point per weak model.

    Theorem 2 bounds the error of a weakly-supervised strong model by the
    weak model's error minus the misfit (up to error terms). The paper's
    heuristic (Section 5.2 and Appendix B) picks, among candidate weak
    supervisors, the one whose strong model has the smallest bound: this
    display draws each candidate's bound (x-axis) against its strong
    model's true error (y-axis), marks the heuristic's pick and the
    candidate with the lowest true error, and draws the line
    ``true error = bound``, which points lie on or below when the bound
    holds without error terms.

    Create it with :meth:`from_cv_results` (a ``GridSearchCV`` scored with
    :func:`skwtsg.bound_scorer`), :meth:`from_estimator` (fitted candidates
    and held-out data), :meth:`from_predictions` or :meth:`from_results`
    (a table like the paper's Tables 1-3); all parameters are stored as
    attributes.

    Parameters
    ----------
    bound : array-like of shape (n_candidates,)
        Bound of each candidate: weak error − misfit (mean over splits).

    true_error : array-like of shape (n_candidates,)
        True error (mean squared error) of each candidate's strong model
        (mean over splits).

    bound_std : array-like of shape (n_candidates,), default=None
        Standard deviation of the bound over splits (horizontal error bars).

    bound_ci : array-like of shape (n_candidates, 2), default=None
        Confidence interval ``(low, high)`` of each candidate's bound, drawn
        as horizontal error bars instead of ``bound_std`` (give one or the
        other), e.g. the ``bound_low`` and ``bound_high`` of
        :func:`skwtsg.metrics.rank_weak_supervisors`.

    true_error_std : array-like of shape (n_candidates,), default=None
        Standard deviation of the true error over splits (vertical error
        bars).

    labels : array-like of shape (n_candidates,), default=None
        Name of each candidate, written next to its point; ``None`` writes
        nothing.

    pick : int, default=None
        Index of the candidate the heuristic picks; ``None`` picks the one
        with the smallest bound.

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

    pick_ : matplotlib Line2D
        Marker on the heuristic's pick.

    best_ : matplotlib Line2D
        Marker on the candidate with the lowest true error.

    annotations_ : list of matplotlib Text
        Candidate labels, placed so that no two overlap (empty when
        ``labels`` is None or ``annotate`` is False).

    pick_index_ : int
        Index of the heuristic's pick.

    best_index_ : int
        Index of the candidate with the lowest true error.

    See Also
    --------
    GainMisfitDisplay : Gain against misfit, one point per task.

    Notes
    -----
    Charikar, Pabbaraju and Shiragur, "Quantifying the Gain in
    Weak-to-Strong Generalization", NeurIPS 2024, Table 1 and Appendix B.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skwtsg.plot import WeakModelSelectionDisplay
    >>> display = WeakModelSelectionDisplay(
    ...     bound=[0.90, 0.97, 1.15], true_error=[1.07, 1.13, 1.19],
    ...     labels=["hidden=96", "hidden=48", "hidden=16"])
    >>> display.plot()
    <skwtsg.plot._selection.WeakModelSelectionDisplay object at ...>
    >>> display.pick_index_, display.best_index_
    (0, 0)
    >>> plt.close("all")
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
    ) -> None:
        self.bound = bound
        self.true_error = true_error
        self.bound_std = bound_std
        self.bound_ci = bound_ci
        self.true_error_std = true_error_std
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
            Write each candidate's label next to its point (placed so that
            labels do not overlap).

        legend : bool, default=True
            Draw a legend.

        errorbar_kwargs : dict, default=None
            Keywords passed to ``matplotlib.axes.Axes.errorbar`` (aliases
            such as ``c`` replace the defaults they stand for).

        line_kwargs : dict, default=None
            Keywords passed to ``matplotlib.axes.Axes.axline`` for the line
            ``true error = bound``.

        Returns
        -------
        display : WeakModelSelectionDisplay
            The object, with the artists stored in its attributes.
        """
        ax = self._start_plot(ax)
        bound = _as_1d_float(self.bound, "bound")
        true_error = _as_1d_float(self.true_error, "true_error")
        n = bound.shape[0]
        _check_same_length(bound, true_error, ("bound", "true_error"), "candidate")
        if np.any(true_error < 0):
            raise ValueError("`true_error` must be non-negative (a mean of squares).")
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
                "label": "candidate weak models",
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
        # The infinite line must not stretch the axes to its anchor point, so
        # the axes keep framing the points even when they lie far from it.
        data_limits = ax.dataLim.frozen()
        line_style = _style(
            {
                "color": "black",
                "alpha": 0.6,
                "linestyle": "--",
                "linewidth": 1.0,
                "label": "true error = bound",
            },
            line_kwargs,
        )
        self.line_ = ax.axline((0.0, 0.0), slope=1.0, **line_style)
        ax.dataLim.set(data_limits)
        ax.autoscale_view()
        self._finish_plot(
            ax,
            xlabel=AXIS_TITLES["bound"],
            ylabel="True error (MSE) of the weakly-supervised strong model",
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
        """Plot candidates from their weak and strong predictions on labelled rows.

        For each candidate, :func:`skwtsg.metrics.weak_to_strong_report` on
        ``(y_true, y_weak[i], y_strong[i])`` gives the bound (weak error −
        misfit) and the true error (the strong model's), averaged over
        tasks. Use rows held out from every model's training.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True labels.

        y_weak : list of array-like of the shape of ``y_true``
            Each candidate's weak model's predictions.

        y_strong : list of array-like of the shape of ``y_true``
            Each candidate's strong model's predictions (trained on that
            weak model's labels).

        labels : array-like of shape (n_candidates,), default=None
            Name of each candidate; ``None`` writes nothing.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the means.

        confidence_level : float, default=None
            With a level such as 0.95, draw each bound's bootstrap interval
            over the rows (:func:`skwtsg.metrics.weak_to_strong_report`'s
            ``bound_ci``) as horizontal error bars.

        random_state : int, RandomState instance, Generator or None, \
                default=None
            Seeds the bootstrap (with ``confidence_level``).

        **plot_kwargs
            Keywords of :meth:`plot` (``ax``, ``annotate``, ``legend``,
            ``errorbar_kwargs``, ``line_kwargs``).

        Returns
        -------
        display : WeakModelSelectionDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from skwtsg.plot import WeakModelSelectionDisplay
        >>> y = [0.0, 1.0, 2.0, 3.0]
        >>> display = WeakModelSelectionDisplay.from_predictions(
        ...     y, [[0.5, 1.5, 2.5, 3.5], [1.0, 0.0, 3.0, 2.0]],
        ...     [[0.2, 1.2, 2.2, 3.2], [0.5, 0.5, 2.5, 2.5]], labels=["a", "b"])
        >>> display.bound.round(2), display.true_error.round(2)
        (array([0.16, 0.75]), array([0.04, 0.25]))
        >>> plt.close("all")
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
        with ``y`` by :meth:`from_predictions`.

        Parameters
        ----------
        estimators : list of WeakToStrongRegressor
            Fitted candidates (e.g. one per weak featurizer).

        X : array-like of shape (n_samples, n_features)
            Held-out inputs.

        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Their true labels.

        labels : array-like of shape (n_candidates,), default=None
            Name of each candidate; ``None`` writes ``"model 0"``, ...

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the means.

        confidence_level : float, default=None
            See :meth:`from_predictions`: the bootstrap interval of each
            bound over the rows of ``(X, y)``, the fitted models held fixed.

        random_state : int, RandomState instance, Generator or None, \
                default=None
            Seeds the bootstrap.

        **plot_kwargs
            Keywords of :meth:`plot` (``ax`` and the styles).

        Returns
        -------
        display : WeakModelSelectionDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
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
        >>> plt.close("all")
        """
        estimators = _as_list(estimators)
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
        **plot_kwargs: Any,
    ) -> WeakModelSelectionDisplay:
        """Plot a search over weak supervisors scored with the bound.

        The recipe: make the candidates differ by their weak model and score
        the search with the bound and with the strong model's error, picking
        (refitting) by the bound::

            search = GridSearchCV(
                WeakToStrongRegressor(head=Ridge()),
                {"weak_featurizer": [PCA(1), PCA(2), PCA(4)]},
                scoring={"bound": skwtsg.bound_scorer,
                         "mse": "neg_mean_squared_error"},
                refit="bound",
            ).fit(X, y)
            WeakModelSelectionDisplay.from_cv_results(search)

        Both scores are measured on each split's held-out fold; the bound is
        ``-mean_test_bound`` and the true error ``-mean_test_mse``, with
        their standard deviations over splits as error bars. Further scorers
        (e.g. ``"misfit": skwtsg.misfit_scorer``) may be in the search.

        Parameters
        ----------
        search : fitted GridSearchCV or RandomizedSearchCV, or dict
            The search, or its ``cv_results_``.

        bound : str, default=None
            Name of the bound scorer; ``None`` uses ``"bound"`` for a
            multi-metric search and ``"score"`` for a single-metric one.

        true_error : str or array-like of shape (n_candidates,), default=None
            Name of the scorer whose negation is the strong model's error
            (e.g. ``true_error="mse"`` for ``"neg_mean_squared_error"``), or
            the true errors themselves (e.g. measured on a test set).
            ``None`` uses the scorer named ``"mse"``, ``"strong_error"`` or
            ``"neg_mean_squared_error"`` if there is one, else the search's
            only other scorer.

        labels : array-like of shape (n_candidates,), default=None
            Name of each candidate; ``None`` writes the parameters that
            vary, from ``cv_results_["params"]``.

        confidence_level : float, default=None
            With a level such as 0.95, the horizontal error bars are each
            mean bound's interval over the splits (Student's t, from
            :func:`skwtsg.metrics.rank_weak_supervisors`) instead of the
            standard deviation.

        **plot_kwargs
            Keywords of :meth:`plot` (``ax``, ``annotate``, ``legend``,
            ``errorbar_kwargs``, ``line_kwargs``).

        Returns
        -------
        display : WeakModelSelectionDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
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
        >>> plt.close("all")
        """
        inputs = cv_results_inputs(
            search,
            bound=bound,
            true_error=true_error,
            labels=labels,
            confidence_level=confidence_level,
        )
        return cls(**inputs).plot(**plot_kwargs)

    @classmethod
    def from_results(cls, table: Any, **plot_kwargs: Any) -> WeakModelSelectionDisplay:
        """Plot a table like the paper's Tables 1-3.

        Parameters
        ----------
        table : DataFrame or str or path-like
            One row per weak model, as made by
            :func:`skwtsg.experiments.selection_table` (or a CSV file of
            it); read by :func:`skwtsg.experiments.selection_inputs`, which
            says which columns it needs.

        **plot_kwargs
            Keywords of :meth:`plot` (``ax``, ``annotate``, ``legend``,
            ``errorbar_kwargs``, ``line_kwargs``).

        Returns
        -------
        display : WeakModelSelectionDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
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
        >>> plt.close("all")
        """
        return cls(**selection_inputs(table)).plot(**plot_kwargs)
