"""Gain against misfit: the paper's Figures 2-3 as a scikit-learn Display."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..metrics import fit_line, weak_to_strong_report
from ._base import (
    _as_list,
    _BaseDisplay,
    _check_labels,
    _classifier_reports,
    _estimators_loss,
    _groups,
    _model_labels,
    _paired_arrays,
    _reference_style,
    _style,
    _weak_and_strong_predictions,
    axis_titles,
)
from ._records import gain_misfit_inputs

__all__ = ["GainMisfitDisplay"]

_KINDS = ("gain_vs_misfit", "slack_vs_misfit")


class GainMisfitDisplay(_BaseDisplay):
    """Gain against misfit, one point per task (the paper's Figures 2-3).

    Theorem 1 puts the points on or above the line ``y = x`` (on it for a
    least-squares head); strong-to-weak points lie near ``y = -x``. Create
    it with :meth:`from_estimator`, :meth:`from_predictions` or
    :meth:`from_results`. Read more in the :ref:`User Guide <plotting>`.

    Parameters
    ----------
    misfit : array-like of shape (n_points,)
        Mean squared difference of the strong and weak predictions (>= 0),
        or for a classifier the mean KL divergence of the strong model's
        class probabilities from the weak model's.
    gain : array-like of shape (n_points,)
        Weak error − strong error (mean squared errors, or log-losses).
    labels : str or array-like of shape (n_points,), default=None
        Series of each point, with its own colour and legend entry (its own
        marker with ``color_by``); ``None``: one series.
    color_by : array-like of shape (n_points,), default=None
        A number per point colouring it through a colormap, with a colorbar
        (e.g. each task's Theorem 2 ε); ``None``: colours by series.
    color_label : str, default=None
        Title of the colorbar.
    xlabel, ylabel : str, default=None
        Axis titles; ``None`` uses the misfit's and the gain's (or slack's),
        in ``loss``.
    loss : {"squared", "kl"} or None, default="squared"
        The loss the values are measured in, named in the default axis
        titles: ``"squared"`` (regressors), ``"kl"`` (classifiers: KL misfit,
        log-loss errors), ``None`` (not said).

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.
    scatter_ : list of matplotlib PathCollection
        One scatter per series, in the order of the legend.
    colorbar_ : matplotlib Colorbar or None
        The colorbar of ``color_by``.
    line_ : matplotlib Line2D
        Reference line: ``y = x``, or ``y = 0`` for ``kind="slack_vs_misfit"``.
    fit_line_ : matplotlib Line2D or None
        The least-squares line, when ``show_fit=True`` and the points
        determine one (:func:`skwtsg.metrics.fit_line`).
    slope_, intercept_, r2_ : float or None
        That line's slope, intercept and R² (``None`` unless
        ``show_fit=True``; NaN when no line is fitted).

    See Also
    --------
    WeakModelSelectionDisplay : Bound against true error, for choosing a
        weak supervisor.

    Examples
    --------
    >>> from skwtsg.plot import GainMisfitDisplay
    >>> display = GainMisfitDisplay(misfit=[0.1, 0.4, 0.8], gain=[0.15, 0.45, 0.85])
    >>> display.plot(show_fit=True)
    <skwtsg.plot._gain_misfit.GainMisfitDisplay object at ...>
    >>> round(display.slope_, 2), round(display.intercept_, 2)
    (1.0, 0.05)
    """

    def __init__(
        self,
        *,
        misfit: ArrayLike,
        gain: ArrayLike,
        labels: str | ArrayLike | None = None,
        color_by: ArrayLike | None = None,
        color_label: str | None = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
        loss: str | None = "squared",
    ) -> None:
        self.misfit, self.gain = misfit, gain
        self.loss = loss
        self.labels = labels
        self.color_by, self.color_label = color_by, color_label
        self.xlabel, self.ylabel = xlabel, ylabel

    def plot(
        self,
        ax: Any = None,
        *,
        kind: str = "gain_vs_misfit",
        show_fit: bool = False,
        legend: bool = True,
        scatter_kwargs: dict | None = None,
        line_kwargs: dict | None = None,
    ) -> GainMisfitDisplay:
        """Plot the gain (or the slack) against the misfit.

        Every ``from_*`` constructor passes its other keywords here.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure.
        kind : {"gain_vs_misfit", "slack_vs_misfit"}, default="gain_vs_misfit"
            The gain with the line ``y = x``, or Theorem 1's slack (gain −
            misfit) with the line ``y = 0``.
        show_fit : bool, default=False
            Draw the least-squares line through all points (the rule of
            :func:`skwtsg.metrics.fit_line`), its slope and R² in the legend.
        legend : bool, default=True
            Draw a legend.
        scatter_kwargs : dict, default=None
            Keywords of every ``Axes.scatter`` call (with ``color_by``,
            ``cmap`` chooses the colormap, default ``"viridis"``).
        line_kwargs : dict, default=None
            Keywords of ``Axes.plot`` for the reference line.

        Returns
        -------
        display : GainMisfitDisplay
            The object, with the artists stored in its attributes.
        """
        ax = self._start_plot(ax)
        titles = axis_titles(self.loss)
        if kind not in _KINDS:
            raise ValueError(f"`kind` must be one of {_KINDS}; got {kind!r}.")
        names = ("misfit", "gain") + (() if self.color_by is None else ("color_by",))
        misfit, gain, *colors = _paired_arrays(self, names, "point")
        if np.any(misfit < 0):
            raise ValueError(
                f"`misfit` must be non-negative (a mean of squares or of KL "
                f"divergences); got "
                f"minimum {misfit.min():.4g}."
            )
        labels = _check_labels(self.labels, misfit.shape[0])
        gain_plot = kind == "gain_vs_misfit"
        y_values = gain if gain_plot else gain - misfit

        # The reference line spans the points (at misfit >= 0), under them.
        if gain_plot:
            lo = max(0.0, min(misfit.min(), y_values.min()))
            hi = max(misfit.max(), y_values.max())
        else:
            lo, hi = misfit.min(), misfit.max()
        if hi == lo:
            lo, hi = lo - 0.5, hi + 0.5
        pad = 0.03 * (hi - lo)
        ends = np.array([lo - pad, hi + pad])
        label = "gain = misfit" if gain_plot else "slack = 0"
        line_style = _reference_style(label, 0.7, line_kwargs)
        self.line_ = ax.plot(ends, ends if gain_plot else [0.0, 0.0], **line_style)[0]

        self.scatter_ = []
        self.colorbar_ = None
        markers = "osD^vP*X"
        for i, (label, mask) in enumerate(_groups(labels, misfit.shape[0])):
            defaults: dict = {"alpha": 0.8, "s": 24, "edgecolors": "none"}
            if label is not None:
                defaults["label"] = str(label)
            if colors:
                defaults.update(
                    c=colors[0][mask],
                    cmap="viridis",
                    vmin=float(colors[0].min()),
                    vmax=float(colors[0].max()),
                    marker=markers[i % len(markers)],
                )
            style = _style(defaults, scatter_kwargs)
            self.scatter_.append(ax.scatter(misfit[mask], y_values[mask], **style))
        if colors:
            from matplotlib.ticker import FuncFormatter

            self.colorbar_ = ax.figure.colorbar(self.scatter_[0], ax=ax)
            # Each tick written in full: the default formatter moves a common
            # factor ("1e-27") above the bar, onto the axes' title.
            self.colorbar_.formatter = FuncFormatter(lambda v, _: f"{v:.3g}")
            self.colorbar_.update_ticks()
            if self.color_label is not None:
                self.colorbar_.set_label(self.color_label)

        self.fit_line_ = self.slope_ = self.intercept_ = self.r2_ = None
        if show_fit:
            line = fit_line(misfit, y_values)
            self.slope_, self.intercept_, self.r2_ = line.slope, line.intercept, line.r2
            if line.fitted:
                self.fit_line_ = ax.plot(
                    ends,
                    line.slope * ends + line.intercept,
                    color="tab:red",
                    linewidth=1.0,
                    alpha=0.8,
                    label=f"fit: slope {line.slope:.2f}, R² {line.r2:.2f}",
                )[0]

        default_ylabel = titles["gain"] if gain_plot else "Slack: gain − misfit"
        return self._finish_plot(
            ax,
            xlabel=self.xlabel if self.xlabel is not None else titles["misfit"],
            ylabel=self.ylabel if self.ylabel is not None else default_ylabel,
            legend=legend,
        )

    @classmethod
    def from_predictions(
        cls,
        y_true: ArrayLike,
        y_weak: ArrayLike,
        y_strong: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        labels: str | ArrayLike | None = None,
        color_by: ArrayLike | None = None,
        color_label: str | None = None,
        **plot_kwargs: Any,
    ) -> GainMisfitDisplay:
        """Plot gain against misfit from true labels and both predictions.

        Each column (task) gives one point, computed by
        :func:`skwtsg.metrics.weak_to_strong_report`. Use held-out rows.

        Parameters
        ----------
        y_true, y_weak, y_strong : array-like of shape (n_samples,) or \
                (n_samples, n_tasks)
            True labels, and the weak and the strong model's predictions.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the means.
        labels, color_by, color_label
            One per task: see :class:`GainMisfitDisplay`.
        **plot_kwargs
            Keywords of :meth:`plot`.

        Returns
        -------
        display : GainMisfitDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from skwtsg.plot import GainMisfitDisplay
        >>> y_true = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 0.0]])
        >>> y_weak = y_true + [[0.5, -1.0], [-0.5, 1.0], [0.5, 0.0]]
        >>> y_strong = y_true + [[0.1, -0.5], [-0.1, 0.5], [0.1, 0.0]]
        >>> display = GainMisfitDisplay.from_predictions(y_true, y_weak, y_strong)
        >>> display.misfit.round(3), display.gain.round(3)
        (array([0.16 , 0.167]), array([0.24, 0.5 ]))
        """
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=float)
            if np.any(weights < 0) or not np.any(weights > 0):
                raise ValueError(
                    "`sample_weight` must be non-negative with a positive sum."
                )
        report = weak_to_strong_report(
            y_true,
            y_weak,
            y_strong,
            sample_weight=sample_weight,
            multioutput="raw_values",
        )
        misfit = np.atleast_1d(report["misfit"])
        display = cls(
            misfit=misfit,
            gain=np.atleast_1d(report["gain"]),
            labels=_check_labels(labels, misfit.shape[0]),
            color_by=color_by,
            color_label=color_label,
        )
        return display.plot(**plot_kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimators: Any,
        X: ArrayLike,
        y: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        labels: str | list[str] | None = None,
        **plot_kwargs: Any,
    ) -> GainMisfitDisplay:
        """Plot gain against misfit of fitted weak-to-strong models.

        Each task (column of ``y``) of each regressor gives one point, from
        ``predict_weak(X)`` and ``predict(X)`` (see :meth:`from_predictions`).
        A classifier gives one point in its own loss: the KL misfit and the
        log-loss gain of its (smoothed) weak and strong class probabilities,
        as its ``misfit_`` and ``gain_`` are measured (on its evaluation
        rows they are equal); the axis titles say so.

        Parameters
        ----------
        estimators : WeakToStrongRegressor or WeakToStrongClassifier, or list
            Fitted estimators with ``predict`` and ``predict_weak``, all
            regressors or all classifiers.
        X : array-like of shape (n_samples, n_features)
            Inputs held out from the training of both models.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True labels of ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the means.
        labels : str or list of str, default=None
            One series label per estimator; ``None`` labels several
            estimators ``"model 0"``, ``"model 1"``, ...
        **plot_kwargs
            Keywords of :meth:`plot`.

        Returns
        -------
        display : GainMisfitDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> from skwtsg import WeakToStrongRegressor
        >>> from skwtsg.plot import GainMisfitDisplay
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(300, 5))
        >>> Y = X @ rng.normal(size=(5, 4))
        >>> est = WeakToStrongRegressor(PCA(n_components=2), random_state=0)
        >>> est = est.fit(X[:200], Y[:200])
        >>> display = GainMisfitDisplay.from_estimator(est, X[200:], Y[200:])
        >>> display.misfit.shape
        (4,)
        """
        estimators = _as_list(estimators)
        model_labels = _model_labels(labels, len(estimators))
        if _estimators_loss(estimators) == "kl":
            reports = _classifier_reports(estimators, X, y, sample_weight)
            display = cls(
                misfit=np.array([r["misfit"] for r in reports]),
                gain=np.array([r["gain"] for r in reports]),
                labels=_check_labels(model_labels, len(reports)),
                loss="kl",
            )
            return display.plot(**plot_kwargs)
        y_true = np.asarray(y, dtype=float)
        if y_true.ndim == 1:
            y_true = y_true.reshape(-1, 1)
        y_weak, y_strong = _weak_and_strong_predictions(estimators, X)
        point_labels = (
            None
            if model_labels is None
            else np.repeat(np.asarray(model_labels, dtype=object), y_true.shape[1])
        )
        return cls.from_predictions(
            np.tile(y_true, (1, len(estimators))),
            np.column_stack(y_weak),
            np.column_stack(y_strong),
            sample_weight=sample_weight,
            labels=point_labels,
            **plot_kwargs,
        )

    @classmethod
    def from_results(
        cls,
        results: Any,
        *,
        x: str = "misfit",
        y: str = "gain",
        hue: str | None = "weak_model",
        color_by: str | None = None,
        **plot_kwargs: Any,
    ) -> GainMisfitDisplay:
        """Plot gain against misfit from a table of experiment results.

        The table (:func:`skwtsg.experiments.run_cases`'s, or a CSV of it)
        is read by :func:`skwtsg.experiments.gain_misfit_inputs`. Filter it
        first (e.g. ``results[results.group == "ESOL"]``) to draw one panel.

        Parameters
        ----------
        results : DataFrame or str or path-like
            The table, or the path of a CSV file holding it.
        x, y : str, default="misfit", "gain"
            Columns of the axes (e.g. ``"train_misfit"``, ``"train_gain"``);
            rows missing either are left out.
        hue : str or None, default="weak_model"
            Column whose values make the series; ``None``: one series.
        color_by : str or None, default=None
            Column colouring the points, e.g. ``"train_epsilon"``; rows
            missing it are left out.
        **plot_kwargs
            Keywords of :meth:`plot`.

        Returns
        -------
        display : GainMisfitDisplay

        Examples
        --------
        >>> import pandas as pd
        >>> from skwtsg.plot import GainMisfitDisplay
        >>> results = pd.DataFrame({
        ...     "weak_model": ["hidden=8", "hidden=8", "hidden=16"],
        ...     "misfit": [0.5, 0.7, 0.2],
        ...     "gain": [0.55, 0.68, 0.21],
        ... })
        >>> display = GainMisfitDisplay.from_results(results)
        >>> [s.get_label() for s in display.scatter_]
        ['hidden=8', 'hidden=16']
        >>> results["train_epsilon"] = [0.01, 0.2, 0.05]
        >>> display = GainMisfitDisplay.from_results(
        ...     results, hue=None, color_by="train_epsilon")
        >>> display.colorbar_.ax.get_ylabel()
        'ε: error of the strong head fitted on the truth (MSE) (strong training sample)'
        """
        inputs = gain_misfit_inputs(results, x=x, y=y, hue=hue, color_by=color_by)
        if plot_kwargs.get("kind", "gain_vs_misfit") != "gain_vs_misfit":
            inputs["ylabel"] = None
        return cls(**inputs).plot(**plot_kwargs)
