"""Gain against misfit: the paper's Figures 2-3 as a scikit-learn Display."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..metrics import fit_line, weak_to_strong_report
from ._base import (
    AXIS_TITLES,
    _as_1d_float,
    _as_list,
    _BaseDisplay,
    _check_labels,
    _check_same_length,
    _groups,
    _model_labels,
    _style,
    _weak_and_strong_predictions,
)
from ._records import gain_misfit_inputs

__all__ = ["GainMisfitDisplay"]

_KINDS = ("gain_vs_misfit", "slack_vs_misfit")


def _per_task_errors(y_true, y_weak, y_strong, sample_weight):
    """Weak error, strong error and misfit of each column (task)."""
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=float)
        if np.any(weights < 0) or not np.any(weights > 0):
            raise ValueError(
                "`sample_weight` must be non-negative with a positive sum."
            )
    report = weak_to_strong_report(
        y_true, y_weak, y_strong, sample_weight=sample_weight, multioutput="raw_values"
    )
    return tuple(
        np.atleast_1d(report[k]) for k in ("weak_error", "strong_error", "misfit")
    )


class GainMisfitDisplay(_BaseDisplay):
    """Gain against misfit, one point per task.

    This is the plot of the paper's Figures 2 and 3. For a strong model
    trained on a weak model's labels, Theorem 1 says that, when the strong
    head is the exact least-squares fit over a convex set of functions of a
    representation that can express the task, its gain over the weak model
    (weak error − strong error, a difference of mean squared errors) is at
    least its misfit to the weak labels; for a linear least-squares head it
    is equal. Points should therefore lie on or above the line ``y = x`` (up
    to the finite-sample and non-realizability terms of Theorem 2). When the
    roles of the models are reversed (strong-to-weak, Figure 3), the points
    lie near ``y = -x``.

    Create it with :meth:`from_estimator`, :meth:`from_predictions` or
    :meth:`from_results`; all parameters are stored as attributes.

    Parameters
    ----------
    misfit : array-like of shape (n_points,)
        Misfit of each point: mean squared difference between the strong
        and the weak model's predictions. Must be non-negative.

    gain : array-like of shape (n_points,)
        Gain of each point: weak error − strong error (mean squared errors
        against the true labels).

    labels : str or array-like of shape (n_points,), default=None
        Series of each point (e.g. the weak model); each distinct label gets
        its own colour and legend entry (its own marker when ``color_by`` is
        given). ``None`` draws a single series.

    color_by : array-like of shape (n_points,), default=None
        A number per point that colours it through a colormap, with a
        colorbar, e.g. each task's Theorem 2 ε (or ε / weak error), to show
        where the points leave the line ``y = x``. ``None``: colours by
        series.

    color_label : str, default=None
        Title of the colorbar (``None``: no title).

    xlabel : str, default=None
        Title of the x-axis; ``None`` uses the misfit's.

    ylabel : str, default=None
        Title of the y-axis; ``None`` uses the gain's (or the slack's for
        ``kind="slack_vs_misfit"``).

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the plot.

    figure_ : matplotlib Figure
        Figure containing the plot.

    scatter_ : list of matplotlib PathCollection
        One scatter per series, in the order of the legend.

    colorbar_ : matplotlib Colorbar or None
        The colorbar of ``color_by`` (None without it).

    line_ : matplotlib Line2D
        Reference line: ``y = x`` for ``kind="gain_vs_misfit"``, ``y = 0``
        for ``kind="slack_vs_misfit"``.

    fit_line_ : matplotlib Line2D or None
        Least-squares line through all points when ``show_fit=True`` and the
        points determine one (:func:`skwtsg.metrics.fit_line`: at least 3
        points and a non-constant misfit); otherwise None.

    slope_ : float or None
        Slope of that line (``None`` unless ``show_fit=True``; NaN when no
        line is fitted).

    intercept_ : float or None
        Intercept of that line (as ``slope_``).

    r2_ : float or None
        Coefficient of determination of that line (as ``slope_``).

    See Also
    --------
    WeakModelSelectionDisplay : Bound against true error, for choosing a
        weak supervisor.
    skwtsg.metrics.fit_line : The rule for the fitted line.

    Notes
    -----
    Charikar, Pabbaraju and Shiragur, "Quantifying the Gain in
    Weak-to-Strong Generalization", NeurIPS 2024, Theorems 1-2 and
    Figures 2-3.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skwtsg.plot import GainMisfitDisplay
    >>> display = GainMisfitDisplay(misfit=[0.1, 0.4, 0.8], gain=[0.15, 0.45, 0.85])
    >>> display.plot(show_fit=True)
    <skwtsg.plot._gain_misfit.GainMisfitDisplay object at ...>
    >>> round(display.slope_, 2), round(display.intercept_, 2)
    (1.0, 0.05)
    >>> plt.close("all")
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
    ) -> None:
        self.misfit = misfit
        self.gain = gain
        self.labels = labels
        self.color_by = color_by
        self.color_label = color_label
        self.xlabel = xlabel
        self.ylabel = ylabel

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
            ``"gain_vs_misfit"`` draws the gain against the misfit with the
            line ``y = x``; ``"slack_vs_misfit"`` draws the slack of
            Theorem 1, gain − misfit, against the misfit with the line
            ``y = 0``.

        show_fit : bool, default=False
            Draw the least-squares line through all points, with its slope
            and R² in the legend; they are stored in ``slope_``,
            ``intercept_`` and ``r2_``. With fewer than 3 points or a
            constant misfit no line is drawn and they are NaN (the rule of
            :func:`skwtsg.metrics.fit_line`, which the experiment reports
            use too).

        legend : bool, default=True
            Draw a legend.

        scatter_kwargs : dict, default=None
            Keywords passed to every ``matplotlib.axes.Axes.scatter`` call
            (a ``color`` or ``c`` here applies to all series; with
            ``color_by``, ``cmap`` chooses the colormap, default
            ``"viridis"``).

        line_kwargs : dict, default=None
            Keywords passed to ``matplotlib.axes.Axes.plot`` for the
            reference line (aliases such as ``ls`` or ``c`` replace the
            defaults they stand for).

        Returns
        -------
        display : GainMisfitDisplay
            The object, with the artists stored in its attributes.
        """
        ax = self._start_plot(ax)
        if kind not in _KINDS:
            raise ValueError(f"`kind` must be one of {_KINDS}; got {kind!r}.")
        misfit = _as_1d_float(self.misfit, "misfit")
        gain = _as_1d_float(self.gain, "gain")
        _check_same_length(misfit, gain, ("misfit", "gain"), "point")
        if np.any(misfit < 0):
            raise ValueError(
                f"`misfit` must be non-negative (it is a mean of squares); got "
                f"minimum {misfit.min():.4g}."
            )
        labels = _check_labels(self.labels, misfit.shape[0])

        gain_plot = kind == "gain_vs_misfit"
        y_values = gain if gain_plot else gain - misfit

        # Reference line first, so the points are drawn on top of it.
        # It spans the points, but never negative misfits (a strong-to-weak
        # plot has negative gains, the line stays at misfit >= 0).
        if gain_plot:
            lo = max(0.0, min(misfit.min(), y_values.min()))
            hi = max(misfit.max(), y_values.max())
        else:
            lo, hi = misfit.min(), misfit.max()
        if hi == lo:
            lo, hi = lo - 0.5, hi + 0.5
        pad = 0.03 * (hi - lo)
        ends = np.array([lo - pad, hi + pad])
        line_style = _style(
            {
                "color": "black",
                "alpha": 0.7,
                "linestyle": "--",
                "linewidth": 1.0,
                "label": "gain = misfit" if gain_plot else "slack = 0",
            },
            line_kwargs,
        )
        self.line_ = ax.plot(ends, ends if gain_plot else [0.0, 0.0], **line_style)[0]

        colors = None
        if self.color_by is not None:
            colors = _as_1d_float(self.color_by, "color_by")
            _check_same_length(misfit, colors, ("misfit", "color_by"), "point")
        self.scatter_ = []
        self.colorbar_ = None
        markers = "osD^vP*X"
        for i, (label, mask) in enumerate(_groups(labels, misfit.shape[0])):
            defaults: dict = {"alpha": 0.8, "s": 24, "edgecolors": "none"}
            if label is not None:
                defaults["label"] = str(label)
            if colors is not None:
                defaults.update(
                    c=colors[mask],
                    cmap="viridis",
                    vmin=float(colors.min()),
                    vmax=float(colors.max()),
                    marker=markers[i % len(markers)],
                )
            style = _style(defaults, scatter_kwargs)
            self.scatter_.append(ax.scatter(misfit[mask], y_values[mask], **style))
        if colors is not None:
            self.colorbar_ = ax.figure.colorbar(self.scatter_[0], ax=ax)
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

        default_ylabel = AXIS_TITLES["gain"] if gain_plot else "Slack: gain − misfit"
        return self._finish_plot(
            ax,
            xlabel=self.xlabel if self.xlabel is not None else AXIS_TITLES["misfit"],
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

        Each column (task) gives one point: weak error = mean((y_weak −
        y_true)²), strong error = mean((y_strong − y_true)²), misfit =
        mean((y_strong − y_weak)²) and gain = weak error − strong error
        (:func:`skwtsg.metrics.weak_to_strong_report`). Use held-out rows,
        not the rows either model was trained on (except to check the exact
        identity of Theorem 1 on the strong head's training sample).

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True labels.

        y_weak : array-like of the same shape
            Predictions of the weak model.

        y_strong : array-like of the same shape
            Predictions of the strong model trained on weak labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the means.

        labels : str or array-like of shape (n_tasks,), default=None
            Series of each task (see :class:`GainMisfitDisplay`).

        color_by : array-like of shape (n_tasks,), default=None
            A number per task colouring its point (see
            :class:`GainMisfitDisplay`).

        color_label : str, default=None
            Title of the colorbar.

        **plot_kwargs
            Keywords of :meth:`plot` (``ax``, ``kind``, ``show_fit``, ``legend``,
            ``scatter_kwargs``, ``line_kwargs``).

        Returns
        -------
        display : GainMisfitDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from skwtsg.plot import GainMisfitDisplay
        >>> y_true = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 0.0]])
        >>> y_weak = y_true + [[0.5, -1.0], [-0.5, 1.0], [0.5, 0.0]]
        >>> y_strong = y_true + [[0.1, -0.5], [-0.1, 0.5], [0.1, 0.0]]
        >>> display = GainMisfitDisplay.from_predictions(y_true, y_weak, y_strong)
        >>> display.misfit.round(3), display.gain.round(3)
        (array([0.16 , 0.167]), array([0.24, 0.5 ]))
        >>> plt.close("all")
        """
        weak_error, strong_error, misfit = _per_task_errors(
            y_true, y_weak, y_strong, sample_weight
        )
        display = cls(
            misfit=misfit,
            gain=weak_error - strong_error,
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

        Each estimator is evaluated on ``(X, y)``: its weak model's
        predictions come from ``predict_weak(X)``, its strong model's from
        ``predict(X)``; each task (column of ``y``) of each estimator gives
        one point, computed by :meth:`from_predictions`.

        Parameters
        ----------
        estimators : WeakToStrongRegressor or list of them
            Fitted estimators with ``predict`` and ``predict_weak``, such as
            :class:`skwtsg.WeakToStrongRegressor`.

        X : array-like of shape (n_samples, n_features)
            Evaluation inputs (held out from the training of both models).

        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True labels of ``X``.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the means.

        labels : str or list of str, default=None
            One series label per estimator; ``None`` labels several
            estimators ``"model 0"``, ``"model 1"``, ... and leaves a single
            one unlabelled.

        **plot_kwargs
            Keywords of :meth:`plot` (``ax``, ``kind``, ``show_fit``, ``legend``,
            ``scatter_kwargs``, ``line_kwargs``).

        Returns
        -------
        display : GainMisfitDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
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
        >>> plt.close("all")
        """
        estimators = _as_list(estimators)
        model_labels = _model_labels(labels, len(estimators))
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

        The table is the experiment runner's
        (:func:`skwtsg.experiments.run_cases`, or a CSV it wrote); it is read
        by :func:`skwtsg.experiments.gain_misfit_inputs`, which says which
        columns it needs. Filter it first (e.g.
        ``results[results.group == "ESOL"]``) to draw one panel of a figure.
        Rows where ``x`` or ``y`` is missing (e.g. training-sample errors of
        unlabelled rows) are left out.

        Parameters
        ----------
        results : DataFrame or str or path-like
            The table, or the path of a CSV file holding it.

        x : str, default="misfit"
            Column on the x-axis, a misfit (non-negative), e.g.
            ``"train_misfit"``.

        y : str, default="gain"
            Column on the y-axis, e.g. ``"train_gain"``.

        hue : str or None, default="weak_model"
            Column whose values make the series (colours and legend);
            ``None`` draws a single series.

        color_by : str or None, default=None
            Column colouring the points through a colormap, with a colorbar
            titled after it, e.g. ``"train_epsilon"`` (Theorem 2's ε) or
            ``"train_epsilon_ratio"`` (ε / weak error); rows where it is
            missing are left out.

        **plot_kwargs
            Keywords of :meth:`plot` (``ax``, ``kind``, ``show_fit``, ``legend``,
            ``scatter_kwargs``, ``line_kwargs``).

        Returns
        -------
        display : GainMisfitDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
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
        >>> plt.close("all")
        """
        inputs = gain_misfit_inputs(results, x=x, y=y, hue=hue, color_by=color_by)
        if plot_kwargs.get("kind", "gain_vs_misfit") != "gain_vs_misfit":
            inputs["ylabel"] = None
        return cls(**inputs).plot(**plot_kwargs)
