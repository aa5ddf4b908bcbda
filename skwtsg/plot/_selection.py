"""Bound against true error: choosing a weak supervisor (the paper's Tables 1-3)."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ._gain_misfit import (
    _as_1d_float,
    _check_columns,
    _check_labels,
    _check_matplotlib,
    _column_title,
    _read_table,
)

__all__ = ["WeakModelSelectionDisplay"]

_RECIPE = (
    'run the search with scoring={"bound": skwtsg.bound_scorer, '
    '"mse": "neg_mean_squared_error"} and refit="bound"'
)


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

    Estimator values are expanded into their own parameters, so candidates
    ``PCA(n_components=1)`` and ``PCA(n_components=3)`` are labelled
    ``"n_components=1"`` and ``"n_components=3"``; an estimator whose class
    varies is labelled by its class name. Labels that would still coincide
    are numbered.
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


class WeakModelSelectionDisplay:
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
    :func:`skwtsg.bound_scorer`) or :meth:`from_results` (a table like the
    paper's Tables 1-3); all parameters are stored as attributes.

    Parameters
    ----------
    bound : array-like of shape (n_candidates,)
        Bound of each candidate: weak error − misfit (mean over splits).

    true_error : array-like of shape (n_candidates,)
        True error of each candidate's strong model (mean over splits).

    bound_std : array-like of shape (n_candidates,), default=None
        Standard deviation of the bound over splits (horizontal error bars).

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
        Candidate labels (empty when ``labels`` is None or ``annotate`` is
        False).

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
    >>> import matplotlib
    >>> matplotlib.use("Agg")
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
        bound,
        true_error,
        bound_std=None,
        true_error_std=None,
        labels=None,
        pick=None,
    ):
        self.bound = bound
        self.true_error = true_error
        self.bound_std = bound_std
        self.true_error_std = true_error_std
        self.labels = labels
        self.pick = pick

    def plot(
        self,
        ax=None,
        *,
        annotate=True,
        legend=True,
        errorbar_kwargs=None,
        line_kwargs=None,
    ):
        """Plot the true error against the bound.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure.

        annotate : bool, default=True
            Write each candidate's label next to its point.

        legend : bool, default=True
            Draw a legend.

        errorbar_kwargs : dict, default=None
            Keywords passed to ``matplotlib.axes.Axes.errorbar``.

        line_kwargs : dict, default=None
            Keywords passed to ``matplotlib.axes.Axes.axline`` for the line
            ``true error = bound``.

        Returns
        -------
        display : WeakModelSelectionDisplay
            The object, with the artists stored in its attributes.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        bound = _as_1d_float(self.bound, "bound")
        true_error = _as_1d_float(self.true_error, "true_error")
        n = bound.shape[0]
        if true_error.shape != bound.shape:
            raise ValueError(
                f"`true_error` has {true_error.shape[0]} values but `bound` has "
                f"{n}; give one of each per candidate."
            )
        if np.any(true_error < 0):
            raise ValueError("`true_error` must be non-negative (a mean of squares).")
        bound_std = _optional_std(self.bound_std, "bound_std", n)
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

        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()

        errorbar_kwargs = {
            "fmt": "o",
            "color": "tab:blue",
            "ecolor": "tab:blue",
            "elinewidth": 1.0,
            "capsize": 3,
            "markersize": 5,
            "alpha": 0.85,
            "label": "candidate weak models",
            **(errorbar_kwargs or {}),
        }
        self.errorbar_ = ax.errorbar(
            bound, true_error, xerr=bound_std, yerr=true_error_std, **errorbar_kwargs
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
        self.annotations_ = [None] * n
        if annotate and labels is not None:
            # Alternate above/below along the bound so close labels overlap less.
            for rank, i in enumerate(np.argsort(bound, kind="stable")):
                self.annotations_[i] = ax.annotate(
                    str(labels[i]),
                    (bound[i], true_error[i]),
                    xytext=(6, 5) if rank % 2 == 0 else (6, -11),
                    textcoords="offset points",
                    fontsize="small",
                )
        else:
            self.annotations_ = []
        # The infinite line must not stretch the axes to its anchor point, so
        # the axes keep framing the points even when they lie far from it.
        data_limits = ax.dataLim.frozen()
        line_kwargs = {
            "color": "black",
            "alpha": 0.6,
            "linestyle": "--",
            "linewidth": 1.0,
            "label": "true error = bound",
            **(line_kwargs or {}),
        }
        self.line_ = ax.axline((0.0, 0.0), slope=1.0, **line_kwargs)
        ax.dataLim.set(data_limits)
        ax.autoscale_view()
        ax.set(
            xlabel=_column_title("bound"),
            ylabel="True error of the weakly-supervised strong model",
        )
        if legend:
            ax.legend(loc="best", fontsize="small", frameon=False)
        self.pick_index_ = pick
        self.best_index_ = best
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_cv_results(
        cls,
        search,
        *,
        bound=None,
        true_error=None,
        labels=None,
        ax=None,
        annotate=True,
        legend=True,
        errorbar_kwargs=None,
        line_kwargs=None,
    ):
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
        their standard deviations over splits as error bars.

        Parameters
        ----------
        search : fitted GridSearchCV or RandomizedSearchCV, or dict
            The search, or its ``cv_results_``.

        bound : str, default=None
            Name of the bound scorer; ``None`` uses ``"bound"`` for a
            multi-metric search and ``"score"`` for a single-metric one.

        true_error : str or array-like of shape (n_candidates,), default=None
            Name of the scorer whose negation is the strong model's error
            (e.g. ``"mse"`` for ``"neg_mean_squared_error"``), or the true
            errors themselves (e.g. measured on a test set). ``None`` uses
            the search's only other scorer.

        labels : array-like of shape (n_candidates,), default=None
            Name of each candidate; ``None`` writes the parameters that
            vary, from ``cv_results_["params"]``.

        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure.

        annotate : bool, default=True
            See :meth:`plot`.

        legend : bool, default=True
            See :meth:`plot`.

        errorbar_kwargs : dict, default=None
            See :meth:`plot`.

        line_kwargs : dict, default=None
            See :meth:`plot`.

        Returns
        -------
        display : WeakModelSelectionDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
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
        if isinstance(search, dict):
            results = search
        else:
            results = getattr(search, "cv_results_", None)
            if results is None:
                raise ValueError(
                    "`search` has no `cv_results_`: fit the search first, or "
                    "pass its cv_results_ dict."
                )
        names = [k[len("mean_test_") :] for k in results if k.startswith("mean_test_")]
        if not names:
            raise ValueError("`search` has no test scores (no 'mean_test_*' key).")
        if bound is None:
            bound = "bound" if "bound" in names else "score"
        if bound not in names:
            raise ValueError(
                f"`bound`: the search has no scorer named {bound!r} (it has "
                f"{names}); {_RECIPE}."
            )
        n = len(results["mean_test_" + bound])
        true_error_std = None
        if true_error is None:
            others = [name for name in names if name != bound]
            if len(others) != 1:
                raise ValueError(
                    "`true_error` is needed: the search has no single scorer "
                    f"besides {bound!r} (it has {names}); {_RECIPE}, or pass "
                    "the true errors."
                )
            true_error = others[0]
        if isinstance(true_error, str):
            if true_error not in names:
                raise ValueError(
                    f"`true_error`: the search has no scorer named "
                    f"{true_error!r} (it has {names})."
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
        display = cls(
            bound=-np.asarray(results["mean_test_" + bound], dtype=float),
            true_error=true_error,
            bound_std=results.get("std_test_" + bound),
            true_error_std=true_error_std,
            labels=labels,
        )
        return display.plot(
            ax=ax,
            annotate=annotate,
            legend=legend,
            errorbar_kwargs=errorbar_kwargs,
            line_kwargs=line_kwargs,
        )

    @classmethod
    def from_results(
        cls,
        table,
        *,
        ax=None,
        annotate=True,
        legend=True,
        errorbar_kwargs=None,
        line_kwargs=None,
    ):
        """Plot a table like the paper's Tables 1-3.

        Parameters
        ----------
        table : DataFrame or str or path-like
            One row per weak model (as made by
            :func:`skwtsg.experiments.selection_table`) with the columns
            ``weak_model`` (or an index of that name), ``bound_mean``,
            ``strong_error_mean`` and optionally
            ``bound_std``, ``strong_error_std`` (over splits) and ``pick``
            (bool, True on the heuristic's pick; otherwise the smallest
            ``bound_mean`` is the pick); or the path of a CSV file holding
            it.

        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure.

        annotate : bool, default=True
            See :meth:`plot`.

        legend : bool, default=True
            See :meth:`plot`.

        errorbar_kwargs : dict, default=None
            See :meth:`plot`.

        line_kwargs : dict, default=None
            See :meth:`plot`.

        Returns
        -------
        display : WeakModelSelectionDisplay
            The plotted display.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
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
        frame = _read_table(table, "table")
        if "weak_model" not in frame.columns and frame.index.name == "weak_model":
            frame = frame.reset_index()
        _check_columns(
            frame, ["weak_model", "bound_mean", "strong_error_mean"], "table"
        )
        pick = None
        if "pick" in frame.columns:
            flags = frame["pick"].fillna(False).astype(bool).to_numpy()
            if flags.sum() != 1:
                raise ValueError(
                    f"`table`: the 'pick' column must be True on exactly one row; "
                    f"it is on {int(flags.sum())}."
                )
            pick = int(np.flatnonzero(flags)[0])
        display = cls(
            bound=frame["bound_mean"].to_numpy(dtype=float),
            true_error=frame["strong_error_mean"].to_numpy(dtype=float),
            bound_std=(
                frame["bound_std"].to_numpy(dtype=float)
                if "bound_std" in frame.columns
                else None
            ),
            true_error_std=(
                frame["strong_error_std"].to_numpy(dtype=float)
                if "strong_error_std" in frame.columns
                else None
            ),
            labels=frame["weak_model"].astype(str).to_numpy(dtype=object),
            pick=pick,
        )
        return display.plot(
            ax=ax,
            annotate=annotate,
            legend=legend,
            errorbar_kwargs=errorbar_kwargs,
            line_kwargs=line_kwargs,
        )
