"""Per-row squared losses, their weighted means, and the five diagnostics."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils._validation import (
    check_finite_result,
    check_multioutput,
    check_real_arrays,
)

__all__ = ["DIAGNOSTICS", "squared_losses"]

#: The diagnostics of Theorem 1, in the order of every table and report.
DIAGNOSTICS = ("weak_error", "strong_error", "misfit", "gain", "bound")


def _mse(a, b, sample_weight, multioutput, names):
    (a, b), sample_weight = check_real_arrays(
        {names[0]: a, names[1]: b}, sample_weight=sample_weight
    )
    multioutput = check_multioutput(multioutput, 1 if a.ndim == 1 else a.shape[1])
    return _mse_kernel(a, b, sample_weight, multioutput, names)


def _mse_kernel(a, b, sample_weight, multioutput, names):
    """:func:`sklearn.metrics.mean_squared_error`'s arithmetic on checked inputs."""
    if a.ndim == 1:
        a, b = a.reshape(-1, 1), b.reshape(-1, 1)
    errors = np.average((a - b) ** 2, axis=0, weights=sample_weight)
    if isinstance(multioutput, str) and multioutput == "raw_values":
        error = errors
    else:
        weights = None if isinstance(multioutput, str) else multioutput
        error = float(np.average(errors, weights=weights))
    return check_finite_result(
        error, f"The mean squared difference of `{names[0]}` and `{names[1]}`"
    )


def _combine_tasks(values, multioutput):
    """Per-task values combined like :func:`sklearn.metrics.mean_squared_error`."""
    multioutput = check_multioutput(multioutput, values.shape[0])
    if isinstance(multioutput, str):
        return values if multioutput == "raw_values" else float(np.mean(values))
    return float(np.average(values, weights=multioutput))


def _diagnostics(weak, strong, mis):
    """The five diagnostics from the three losses (any shape, any loss)."""
    return {
        "weak_error": weak,
        "strong_error": strong,
        "misfit": mis,
        "gain": weak - strong,
        "bound": weak - mis,
    }


def squared_losses(y_true: Any, y_weak: Any, y_strong: Any) -> dict[str, Any]:
    """Per-row squared errors of the weak and strong models, and the misfit
    (``None`` where an input is ``None``).

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.metrics._losses import squared_losses
    >>> squared_losses(np.zeros(2), np.ones(2), None)["weak_error"]
    array([1., 1.])
    """
    known = y_weak is not None and y_strong is not None
    return {
        "weak_error": None if y_true is None else (y_true - y_weak) ** 2,
        "strong_error": (
            None if y_true is None or y_strong is None else (y_true - y_strong) ** 2
        ),
        "misfit": (y_weak - y_strong) ** 2 if known else None,
    }


#: A gap ``weak - ceiling`` at most this fraction of the errors is none: two
#: means that agree differ by rounding, about 1e-16 of them (the tolerance of
#: ``bound_``'s sign likewise), and a ratio over such a gap is any number.
PGR_GAP_RTOL = 1e-10


def no_gap(weak: Any, w2s: Any, ceiling: Any) -> Any:
    """Where the performance gap ``weak - ceiling`` is none (within
    :data:`PGR_GAP_RTOL` of the three errors or accuracies): the one rule of
    every PGR (regression, classification, the estimators' ``pgr_``)."""
    scale = np.maximum.reduce([np.abs(weak), np.abs(ceiling), np.abs(w2s)])
    return np.abs(np.subtract(weak, ceiling)) <= PGR_GAP_RTOL * scale
