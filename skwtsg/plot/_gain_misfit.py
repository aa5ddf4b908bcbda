"""Gain against misfit: the paper's Figures 2-3 as a scikit-learn Display."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

__all__ = ["GainMisfitDisplay"]

_KINDS = ("gain_vs_misfit", "slack_vs_misfit")

#: Axis titles of the experiment-table columns (``train_*`` get a suffix).
_COLUMN_TITLES = {
    "misfit": "Misfit: mean (strong − weak)²",
    "gain": "Gain in accuracy: weak error − strong error",
    "weak_error": "Weak model error",
    "strong_error": "Strong model error",
    "bound": "Bound: weak error − misfit",
}


def _check_matplotlib(caller):
    """Import matplotlib or raise an ImportError that says how to get it."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:  # pragma: no cover - matplotlib is installed in CI
        raise ImportError(
            f"{caller} requires matplotlib. Install it with "
            "`pip install skwtsg[plot]` or `pip install matplotlib`."
        ) from exc


def _column_title(column):
    """Axis title for an experiment-table column such as ``"train_gain"``."""
    base = column[len("train_") :] if column.startswith("train_") else column
    title = _COLUMN_TITLES.get(base, column)
    if column.startswith("train_") and base in _COLUMN_TITLES:
        title += " (strong training sample)"
    return title


def _read_table(table, name):
    """Return ``table`` as a DataFrame; a str or path-like is read as a CSV."""
    if isinstance(table, (str, os.PathLike)):
        return pd.read_csv(table)
    if isinstance(table, pd.DataFrame):
        return table
    raise TypeError(
        f"`{name}` must be a pandas DataFrame or the path of a CSV file; "
        f"got {type(table).__name__}."
    )


def _check_columns(frame, columns, name):
    missing = [c for c in columns if c is not None and c not in frame.columns]
    if missing:
        raise ValueError(
            f"`{name}` lacks the column(s) {missing}; it has {list(frame.columns)}."
        )


def _as_1d_float(values, name):
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


def _check_labels(labels, n_points, name="labels"):
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


def _groups(labels, n_points):
    """(label, mask) pairs in order of first appearance; one unnamed group."""
    if labels is None:
        return [(None, np.ones(n_points, dtype=bool))]
    order = pd.unique(pd.Series(labels, dtype=object))
    return [(label, labels == label) for label in order]


def _per_task_errors(y_true, y_weak, y_strong, sample_weight):
    """Weak error, strong error and misfit of each column (task)."""
    y_true = np.asarray(y_true, dtype=float)
    y_weak = np.asarray(y_weak, dtype=float)
    y_strong = np.asarray(y_strong, dtype=float)
    for name, array in (("y_true", y_true), ("y_weak", y_weak), ("y_strong", y_strong)):
        if array.ndim not in (1, 2):
            raise ValueError(
                f"`{name}` must have shape (n_samples,) or (n_samples, n_tasks); "
                f"got shape {array.shape}."
            )
        if array.shape[0] == 0:
            raise ValueError(f"`{name}` is empty: there is nothing to plot.")
        if not np.all(np.isfinite(array)):
            raise ValueError(
                f"`{name}` contains NaN or infinite values; keep only labelled "
                "evaluation rows."
            )
    y_true, y_weak, y_strong = (
        a.reshape(-1, 1) if a.ndim == 1 else a for a in (y_true, y_weak, y_strong)
    )
    if y_weak.shape != y_true.shape:
        raise ValueError(
            f"`y_weak` has shape {y_weak.shape} but `y_true` has shape "
            f"{y_true.shape}; they must match."
        )
    if y_strong.shape != y_true.shape:
        raise ValueError(
            f"`y_strong` has shape {y_strong.shape} but `y_true` has shape "
            f"{y_true.shape}; they must match."
        )
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=float)
        if sample_weight.shape != (y_true.shape[0],):
            raise ValueError(
                f"`sample_weight` must have shape ({y_true.shape[0]},); got "
                f"{sample_weight.shape}."
            )
        if np.any(sample_weight < 0) or not np.any(sample_weight > 0):
            raise ValueError(
                "`sample_weight` must be non-negative with a positive sum."
            )

    def mse(a, b):
        return np.average((a - b) ** 2, axis=0, weights=sample_weight)

    return mse(y_weak, y_true), mse(y_strong, y_true), mse(y_strong, y_weak)


class GainMisfitDisplay:
    """Gain in accuracy against misfit, one point per task.

    This is the plot of the paper's Figures 2 and 3. For a strong model
    trained on a weak model's labels, Theorem 1 says that, when the strong
    head is the exact least-squares fit over a convex set of functions of a
    representation that can express the task, its gain in accuracy over the
    weak model (weak error − strong error) is at least its misfit to the
    weak labels; for a linear least-squares head it is equal. Points should
    therefore lie on or above the line ``y = x`` (up to the finite-sample and
    non-realizability terms of Theorem 2). When the roles of the models are
    reversed (strong-to-weak, Figure 3), the points lie near ``y = -x``.

    Create it with :meth:`from_estimator`, :meth:`from_predictions` or
    :meth:`from_results`; all parameters are stored as attributes.

    Parameters
    ----------
    misfit : array-like of shape (n_points,)
        Misfit of each point: mean squared difference between the strong
        and the weak model's predictions. Must be non-negative.

    gain : array-like of shape (n_points,)
        Gain in accuracy of each point: weak error − strong error (mean
        squared errors against the true labels).

    labels : str or array-like of shape (n_points,), default=None
        Series of each point (e.g. the weak model); each distinct label gets
        its own colour and legend entry. ``None`` draws a single series.

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

    line_ : matplotlib Line2D
        Reference line: ``y = x`` for ``kind="gain_vs_misfit"``, ``y = 0``
        for ``kind="slack_vs_misfit"``.

    fit_line_ : matplotlib Line2D or None
        Least-squares line through all points when ``show_fit=True``.

    slope_ : float or None
        Slope of that line (``None`` unless ``show_fit=True``).

    intercept_ : float or None
        Intercept of that line (``None`` unless ``show_fit=True``).

    r2_ : float or None
        Coefficient of determination of that line (``None`` unless
        ``show_fit=True``).

    See Also
    --------
    WeakModelSelectionDisplay : Bound against true error, for choosing a
        weak supervisor.

    Notes
    -----
    Charikar, Pabbaraju and Shiragur, "Quantifying the Gain in
    Weak-to-Strong Generalization", NeurIPS 2024, Theorems 1-2 and
    Figures 2-3.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from skwtsg.plot import GainMisfitDisplay
    >>> display = GainMisfitDisplay(misfit=[0.1, 0.4, 0.8], gain=[0.15, 0.45, 0.85])
    >>> display.plot(show_fit=True)
    <skwtsg.plot._gain_misfit.GainMisfitDisplay object at ...>
    >>> round(display.slope_, 2), round(display.intercept_, 2)
    (1.0, 0.05)
    >>> plt.close("all")
    """

    def __init__(self, *, misfit, gain, labels=None, xlabel=None, ylabel=None):
        self.misfit = misfit
        self.gain = gain
        self.labels = labels
        self.xlabel = xlabel
        self.ylabel = ylabel

    def plot(
        self,
        ax=None,
        *,
        kind="gain_vs_misfit",
        show_fit=False,
        legend=True,
        scatter_kwargs=None,
        line_kwargs=None,
    ):
        """Plot the gain (or the slack) against the misfit.

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
            ``intercept_`` and ``r2_``.

        legend : bool, default=True
            Draw a legend.

        scatter_kwargs : dict, default=None
            Keywords passed to every ``matplotlib.axes.Axes.scatter`` call
            (a ``color`` here applies to all series).

        line_kwargs : dict, default=None
            Keywords passed to ``matplotlib.axes.Axes.plot`` for the
            reference line.

        Returns
        -------
        display : GainMisfitDisplay
            The object, with the artists stored in its attributes.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        if kind not in _KINDS:
            raise ValueError(f"`kind` must be one of {_KINDS}; got {kind!r}.")
        misfit = _as_1d_float(self.misfit, "misfit")
        gain = _as_1d_float(self.gain, "gain")
        if gain.shape != misfit.shape:
            raise ValueError(
                f"`gain` has {gain.shape[0]} values but `misfit` has "
                f"{misfit.shape[0]}; give one of each per point."
            )
        if np.any(misfit < 0):
            raise ValueError(
                f"`misfit` must be non-negative (it is a mean of squares); got "
                f"minimum {misfit.min():.4g}."
            )
        labels = _check_labels(self.labels, misfit.shape[0])
        if show_fit and np.unique(misfit).size < 2:
            raise ValueError(
                "`show_fit=True` needs at least two distinct `misfit` values."
            )

        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()

        y_values = gain if kind == "gain_vs_misfit" else gain - misfit
        default_ylabel = (
            _COLUMN_TITLES["gain"]
            if kind == "gain_vs_misfit"
            else "Slack: gain − misfit"
        )

        # Reference line first, so the points are drawn on top of it.
        # It spans the points, but never negative misfits (a strong-to-weak
        # plot has negative gains, the line stays at misfit >= 0).
        if kind == "gain_vs_misfit":
            lo = max(0.0, min(misfit.min(), y_values.min()))
            hi = max(misfit.max(), y_values.max())
        else:
            lo, hi = misfit.min(), misfit.max()
        if hi == lo:
            lo, hi = lo - 0.5, hi + 0.5
        pad = 0.03 * (hi - lo)
        ends = np.array([lo - pad, hi + pad])
        line_kwargs = {
            "color": "black",
            "alpha": 0.7,
            "linestyle": "--",
            "linewidth": 1.0,
            "label": "gain = misfit" if kind == "gain_vs_misfit" else "slack = 0",
            **(line_kwargs or {}),
        }
        if kind == "gain_vs_misfit":
            self.line_ = ax.plot(ends, ends, **line_kwargs)[0]
        else:
            self.line_ = ax.plot(ends, [0.0, 0.0], **line_kwargs)[0]

        self.scatter_ = []
        for label, mask in _groups(labels, misfit.shape[0]):
            kwargs = {"alpha": 0.8, "s": 24, "edgecolors": "none"}
            if label is not None:
                kwargs["label"] = str(label)
            kwargs.update(scatter_kwargs or {})
            self.scatter_.append(ax.scatter(misfit[mask], y_values[mask], **kwargs))

        self.fit_line_ = self.slope_ = self.intercept_ = self.r2_ = None
        if show_fit:
            slope, intercept = np.polyfit(misfit, y_values, deg=1)
            residual = y_values - (slope * misfit + intercept)
            total = np.sum((y_values - y_values.mean()) ** 2)
            r2 = 1.0 - np.sum(residual**2) / total if total > 0 else 1.0
            self.slope_, self.intercept_, self.r2_ = (
                float(slope),
                float(intercept),
                float(r2),
            )
            self.fit_line_ = ax.plot(
                ends,
                slope * ends + intercept,
                color="tab:red",
                linewidth=1.0,
                alpha=0.8,
                label=f"fit: slope {slope:.2f}, R² {r2:.2f}",
            )[0]

        ax.set(
            xlabel=self.xlabel if self.xlabel is not None else _COLUMN_TITLES["misfit"],
            ylabel=self.ylabel if self.ylabel is not None else default_ylabel,
        )
        if legend:
            ax.legend(loc="best", fontsize="small", frameon=False)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_weak,
        y_strong,
        *,
        sample_weight=None,
        labels=None,
        ax=None,
        kind="gain_vs_misfit",
        show_fit=False,
        legend=True,
        scatter_kwargs=None,
        line_kwargs=None,
    ):
        """Plot gain against misfit from true labels and both predictions.

        Each column (task) gives one point: weak error = mean((y_weak −
        y_true)²), strong error = mean((y_strong − y_true)²), misfit =
        mean((y_strong − y_weak)²) and gain = weak error − strong error.
        Use held-out rows, not the rows either model was trained on (except
        to check the exact identity of Theorem 1 on the strong head's
        training sample).

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

        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure.

        kind : {"gain_vs_misfit", "slack_vs_misfit"}, default="gain_vs_misfit"
            See :meth:`plot`.

        show_fit : bool, default=False
            See :meth:`plot`.

        legend : bool, default=True
            See :meth:`plot`.

        scatter_kwargs : dict, default=None
            See :meth:`plot`.

        line_kwargs : dict, default=None
            See :meth:`plot`.

        Returns
        -------
        display : GainMisfitDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
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
        )
        return display.plot(
            ax=ax,
            kind=kind,
            show_fit=show_fit,
            legend=legend,
            scatter_kwargs=scatter_kwargs,
            line_kwargs=line_kwargs,
        )

    @classmethod
    def from_estimator(
        cls,
        estimators,
        X,
        y,
        *,
        sample_weight=None,
        labels=None,
        ax=None,
        kind="gain_vs_misfit",
        show_fit=False,
        legend=True,
        scatter_kwargs=None,
        line_kwargs=None,
    ):
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

        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure.

        kind : {"gain_vs_misfit", "slack_vs_misfit"}, default="gain_vs_misfit"
            See :meth:`plot`.

        show_fit : bool, default=False
            See :meth:`plot`.

        legend : bool, default=True
            See :meth:`plot`.

        scatter_kwargs : dict, default=None
            See :meth:`plot`.

        line_kwargs : dict, default=None
            See :meth:`plot`.

        Returns
        -------
        display : GainMisfitDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
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
        if isinstance(estimators, (list, tuple)):
            estimators = list(estimators)
            if not estimators:
                raise ValueError("`estimators` is empty: give at least one.")
        else:
            estimators = [estimators]
        if labels is None:
            labels = (
                None
                if len(estimators) == 1
                else [f"model {i}" for i in range(len(estimators))]
            )
        elif isinstance(labels, str):
            labels = [labels] * len(estimators)
        else:
            labels = list(labels)
            if len(labels) != len(estimators):
                raise ValueError(
                    f"`labels` has {len(labels)} entries for {len(estimators)} "
                    "estimators; give one per estimator."
                )

        y_true = np.asarray(y, dtype=float)
        if y_true.ndim == 1:
            y_true = y_true.reshape(-1, 1)
        y_weak, y_strong = [], []
        for i, estimator in enumerate(estimators):
            check_is_fitted(estimator)
            for name in ("predict", "predict_weak"):
                if not callable(getattr(estimator, name, None)):
                    raise TypeError(
                        f"`estimators[{i}]` ({type(estimator).__name__}) has no "
                        f"`{name}` method; pass fitted WeakToStrongRegressor "
                        "instances."
                    )
            y_weak.append(np.asarray(estimator.predict_weak(X), dtype=float))
            y_strong.append(np.asarray(estimator.predict(X), dtype=float))
        y_weak = np.column_stack([a.reshape(a.shape[0], -1) for a in y_weak])
        y_strong = np.column_stack([a.reshape(a.shape[0], -1) for a in y_strong])
        n_tasks = y_true.shape[1]
        point_labels = (
            None
            if labels is None
            else np.repeat(np.asarray(labels, dtype=object), n_tasks)
        )
        return cls.from_predictions(
            np.tile(y_true, (1, len(estimators))),
            y_weak,
            y_strong,
            sample_weight=sample_weight,
            labels=point_labels,
            ax=ax,
            kind=kind,
            show_fit=show_fit,
            legend=legend,
            scatter_kwargs=scatter_kwargs,
            line_kwargs=line_kwargs,
        )

    @classmethod
    def from_results(
        cls,
        results,
        *,
        x="misfit",
        y="gain",
        hue="weak_model",
        ax=None,
        kind="gain_vs_misfit",
        show_fit=False,
        legend=True,
        scatter_kwargs=None,
        line_kwargs=None,
    ):
        """Plot gain against misfit from a table of experiment results.

        The table has one row per task and weak model, with the columns
        written by the experiment runner: ``group, case, weak_model, task,
        weak_error, strong_error, misfit, gain, bound`` measured on held-out
        rows, and ``train_weak_error, train_strong_error, train_misfit,
        train_gain, train_bound`` measured on the strong head's training
        rows. Filter it first (e.g. ``results[results.group == "ESOL"]``) to
        draw one panel of a figure. Rows where ``x`` or ``y`` is missing
        (e.g. training-sample errors of unlabelled rows) are left out.

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

        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure.

        kind : {"gain_vs_misfit", "slack_vs_misfit"}, default="gain_vs_misfit"
            See :meth:`plot`.

        show_fit : bool, default=False
            See :meth:`plot`.

        legend : bool, default=True
            See :meth:`plot`.

        scatter_kwargs : dict, default=None
            See :meth:`plot`.

        line_kwargs : dict, default=None
            See :meth:`plot`.

        Returns
        -------
        display : GainMisfitDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
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
        >>> plt.close("all")
        """
        frame = _read_table(results, "results")
        if not isinstance(x, str) or not isinstance(y, str):
            raise TypeError("`x` and `y` must be column names (str).")
        if hue is not None and not isinstance(hue, str):
            raise TypeError(f"`hue` must be a column name or None; got {hue!r}.")
        _check_columns(frame, [x, y, hue], "results")
        frame = frame.dropna(subset=[x, y])
        if frame.empty:
            raise ValueError(
                f"`results` has no row where both {x!r} and {y!r} are given."
            )
        display = cls(
            misfit=frame[x].to_numpy(dtype=float),
            gain=frame[y].to_numpy(dtype=float),
            labels=None if hue is None else frame[hue].astype(str).to_numpy(object),
            xlabel=_column_title(x),
            ylabel=_column_title(y) if kind == "gain_vs_misfit" else None,
        )
        return display.plot(
            ax=ax,
            kind=kind,
            show_fit=show_fit,
            legend=legend,
            scatter_kwargs=scatter_kwargs,
            line_kwargs=line_kwargs,
        )
