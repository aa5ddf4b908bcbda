"""The experiment runner's tables as the keyword arguments of the Displays.

Public as :func:`skwtsg.experiments.gain_misfit_inputs` and
:func:`skwtsg.experiments.selection_inputs`; they live here, below the
experiments, which import the Displays.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from ._base import AXIS_TITLES

__all__ = ["gain_misfit_inputs", "selection_inputs"]


def _read_table(table: Any, name: str) -> pd.DataFrame:
    """Return ``table`` as a DataFrame; a str or path-like is read as a CSV."""
    if isinstance(table, (str, os.PathLike)):
        return pd.read_csv(table)
    if isinstance(table, pd.DataFrame):
        return table
    raise TypeError(
        f"`{name}` must be a pandas DataFrame or the path of a CSV file; "
        f"got {type(table).__name__}."
    )


def _check_columns(frame: pd.DataFrame, columns, name: str) -> None:
    missing = [c for c in columns if c is not None and c not in frame.columns]
    if missing:
        raise ValueError(
            f"`{name}` lacks the column(s) {missing}; it has {list(frame.columns)}."
        )


def _column_title(column: str) -> str:
    """Axis title for a runner column such as ``"train_gain"``."""
    base = column[len("train_") :] if column.startswith("train_") else column
    title = AXIS_TITLES.get(base, column)
    if column.startswith("train_") and base in AXIS_TITLES:
        title += " (strong training sample)"
    return title


def gain_misfit_inputs(
    results: Any,
    *,
    x: str = "misfit",
    y: str = "gain",
    hue: str | None = "weak_model",
    color_by: str | None = None,
) -> dict:
    """:class:`~skwtsg.plot.GainMisfitDisplay`'s arguments from runner records.

    Parameters
    ----------
    results : DataFrame or str or path-like
        Records of :func:`~skwtsg.experiments.run_cases` (one row per case,
        weak model and task; ``train_*`` columns are measured on the strong
        head's training rows), or the path of a CSV file of them.
    x, y : str, default="misfit", "gain"
        Columns of the axes. Rows where either is missing are left out.
    hue : str or None, default="weak_model"
        Column whose values make the series; ``None``: one series.
    color_by : str or None, default=None
        Column of numbers colouring the points (e.g. ``"train_epsilon"``);
        rows where it is missing are left out.

    Returns
    -------
    inputs : dict
        ``misfit``, ``gain``, ``labels``, ``xlabel`` and ``ylabel``, and
        with ``color_by`` also ``color_by`` and ``color_label``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skwtsg.experiments import gain_misfit_inputs
    >>> table = pd.DataFrame({"weak_model": ["a", "b"], "train_misfit": [0.1, 0.2],
    ...                       "train_gain": [0.2, None]})
    >>> inputs = gain_misfit_inputs(table, x="train_misfit", y="train_gain")
    >>> inputs["misfit"], inputs["xlabel"]
    (array([0.1]), 'Misfit: mean (strong − weak)² (strong training sample)')
    """
    frame = _read_table(results, "results")
    if not isinstance(x, str) or not isinstance(y, str):
        raise TypeError("`x` and `y` must be column names (str).")
    for name, value in (("hue", hue), ("color_by", color_by)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"`{name}` must be a column name or None; got {value!r}.")
    _check_columns(frame, [x, y, hue, color_by], "results")
    needed = [x, y] if color_by is None else [x, y, color_by]
    frame = frame.dropna(subset=needed)
    if frame.empty:
        given = " and ".join(map(repr, needed))
        raise ValueError(f"`results` has no row where both {given} are given.")
    inputs = {
        "misfit": frame[x].to_numpy(dtype=float),
        "gain": frame[y].to_numpy(dtype=float),
        "labels": None if hue is None else frame[hue].astype(str).to_numpy(object),
        "xlabel": _column_title(x),
        "ylabel": _column_title(y),
    }
    if color_by is not None:
        inputs["color_by"] = frame[color_by].to_numpy(dtype=float)
        inputs["color_label"] = _column_title(color_by)
    return inputs


def selection_inputs(table: Any) -> dict:
    """:class:`~skwtsg.plot.WeakModelSelectionDisplay`'s arguments from a table.

    Parameters
    ----------
    table : DataFrame or str or path-like
        One row per weak model (:func:`~skwtsg.experiments.selection_table`,
        or a CSV of it): ``weak_model`` (or an index of that name),
        ``bound_mean``, ``strong_error_mean`` and optionally ``bound_std``,
        ``strong_error_std``, ``bound_low`` and ``bound_high`` (drawn
        instead of ``bound_std``) and ``pick`` (True on the pick; else the
        smallest ``bound_mean``) and ``verdict`` (the paired comparison with
        the pick, in words).

    Returns
    -------
    inputs : dict
        ``bound``, ``true_error``, ``bound_std``, ``true_error_std``,
        ``labels``, ``pick``, ``bound_ci`` and ``verdicts``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skwtsg.experiments import selection_inputs
    >>> table = pd.DataFrame({"weak_model": ["a", "b"], "bound_mean": [0.5, 0.2],
    ...                       "strong_error_mean": [1.0, 1.2]})
    >>> selection_inputs(table)["labels"].tolist()
    ['a', 'b']
    """
    frame = _read_table(table, "table")
    if "weak_model" not in frame.columns and frame.index.name == "weak_model":
        frame = frame.reset_index()
    _check_columns(frame, ["weak_model", "bound_mean", "strong_error_mean"], "table")
    pick = None
    if "pick" in frame.columns:
        flags = frame["pick"].fillna(False).astype(bool).to_numpy()
        if flags.sum() != 1:
            raise ValueError(
                f"`table`: the 'pick' column must be True on exactly one row; "
                f"it is on {int(flags.sum())}."
            )
        pick = int(np.flatnonzero(flags)[0])

    def optional(column):
        return frame[column].to_numpy(dtype=float) if column in frame else None

    bound_ci = None
    if {"bound_low", "bound_high"} <= set(frame.columns):
        bound_ci = frame[["bound_low", "bound_high"]].to_numpy(dtype=float)
        if not np.all(np.isfinite(bound_ci)):  # e.g. a single split: no interval
            bound_ci = None
    return {
        "bound": frame["bound_mean"].to_numpy(dtype=float),
        "true_error": frame["strong_error_mean"].to_numpy(dtype=float),
        "bound_std": optional("bound_std") if bound_ci is None else None,
        "bound_ci": bound_ci,
        "true_error_std": optional("strong_error_std"),
        "labels": frame["weak_model"].astype(str).to_numpy(dtype=object),
        "pick": pick,
        "verdicts": (
            frame["verdict"].fillna("").astype(str).to_numpy(dtype=object)
            if "verdict" in frame
            else None
        ),
    }
