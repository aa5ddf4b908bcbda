"""Is a head a projection onto a convex set? (When Theorem 1 applies.)"""

from __future__ import annotations

import warnings
from typing import Any

from .._utils._validation import check_bool
from ._tags import get_head_tags

__all__ = ["is_convex_head", "check_head_convexity"]

# scikit-learn regressors that minimise the squared loss, exactly or to a
# solver tolerance, over a convex set of functions, in penalised (Lagrangian)
# or constrained form. Robust losses (Huber, quantile, ...) are excluded:
# Theorem 1 needs the least-squares projection.
_CONVEX_SKLEARN = (
    ("sklearn.linear_model", "LinearRegression"),
    ("sklearn.linear_model", "Ridge"),
    ("sklearn.linear_model", "RidgeCV"),
    ("sklearn.linear_model", "Lasso"),
    ("sklearn.linear_model", "LassoCV"),
    ("sklearn.linear_model", "ElasticNet"),
    ("sklearn.linear_model", "ElasticNetCV"),
    ("sklearn.linear_model", "LassoLars"),
    ("sklearn.linear_model", "LassoLarsCV"),
    ("sklearn.linear_model", "LassoLarsIC"),
    ("sklearn.linear_model", "MultiTaskLasso"),
    ("sklearn.linear_model", "MultiTaskElasticNet"),
    ("sklearn.isotonic", "IsotonicRegression"),
)


def _known_convex_classes():
    import importlib

    classes = []
    for module, name in _CONVEX_SKLEARN:
        cls = getattr(importlib.import_module(module), name, None)
        if cls is not None:
            classes.append(cls)
    return tuple(classes)


def _last_step(estimator: Any) -> Any:
    from sklearn.pipeline import Pipeline

    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1] if estimator.steps else None
    return estimator


def _is_approximate(estimator: Any) -> bool:
    """Whether the head only approximates its least-squares minimiser."""
    return not get_head_tags(_last_step(estimator)).exact


def is_convex_head(estimator: Any, *, return_exact: bool = False) -> Any:
    """Whether a regressor is known to be a least-squares projection onto a convex set.

    Theorem 1 needs the strong head to be the exact least-squares minimiser
    over a convex set of functions. A head declares both in its tags
    (:class:`~skwtsg.heads.HeadTags`); scikit-learn's least-squares linear
    models are known without tags. Read more in the :ref:`User Guide <heads>`.

    Parameters
    ----------
    estimator : estimator instance
        The head: a regressor, or a :class:`~sklearn.pipeline.Pipeline` whose
        last step is the regressor (its other steps are then part of the
        representation ``h_s``).
    return_exact : bool, default=False
        Also return whether the minimiser is exact.

    Returns
    -------
    convex : bool or None
        ``True`` when the tags declare ``head_tags.convex=True`` or it is a
        known least-squares scikit-learn regressor over a convex set
        (``LinearRegression``, ``Ridge``, ``Lasso``, ``ElasticNet`` and their
        ``CV``/``IC`` variants, ``LassoLars``, ``MultiTaskLasso``,
        ``MultiTaskElasticNet``, a fitted ``Lars`` that may use every
        feature, ``IsotonicRegression`` with a fixed direction); ``False``
        when the tags declare ``convex=False``; ``None`` when unknown (e.g.
        ``MLPRegressor``, ``HuberRegressor``).
    exact : bool
        Only with ``return_exact=True``: ``False`` when the tags declare
        ``head_tags.exact=False`` (Theorem 1 then holds up to the
        optimisation error, ``kkt_residual_``).

    See Also
    --------
    check_head_convexity : Warn when the answer is not ``True``.
    HeadTags : What a head declares.

    Notes
    -----
    Penalised models are projections onto the sublevel set of their penalty
    through the solution (Lagrangian duality); iterative solvers satisfy the
    inequality up to their tolerance; ``*CV`` and ``*IC`` variants choose the
    set from the labels.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.neural_network import MLPRegressor
    >>> from skwtsg.heads import LeastSquaresHead, is_convex_head
    >>> is_convex_head(LeastSquaresHead()), is_convex_head(Ridge())
    (True, True)
    >>> print(is_convex_head(MLPRegressor()))
    None
    >>> from skwtsg.heads import GradientLinearHead
    >>> is_convex_head(GradientLinearHead(), return_exact=True)
    (True, False)
    """
    check_bool(return_exact, "return_exact")
    convex = _is_convex(_last_step(estimator))
    if return_exact:
        return convex, not _is_approximate(estimator)
    return convex


def _is_convex(estimator: Any) -> bool | None:
    if estimator is None or estimator == "passthrough":
        return None
    declared = get_head_tags(estimator).convex
    if declared is not None:
        return bool(declared)
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import Lars, LassoLars

    if isinstance(estimator, IsotonicRegression):
        return True if isinstance(estimator.increasing, bool) else None
    if isinstance(estimator, Lars) and not isinstance(estimator, LassoLars):
        n_features = getattr(estimator, "n_features_in_", None)
        limit = getattr(estimator, "n_nonzero_coefs", None)
        if n_features is not None and limit is not None and limit >= n_features:
            return True
        return None
    if isinstance(estimator, _known_convex_classes()):
        return True
    return None


def check_head_convexity(head: Any) -> bool | None:
    """Warn when Theorem 1 is not known to apply to a head, or only approximately.

    Parameters
    ----------
    head : estimator instance
        The strong head (see :func:`is_convex_head`).

    Returns
    -------
    convex : bool or None
        The value of :func:`is_convex_head`.

    Warns
    -----
    UserWarning
        When ``head`` is not known to be a projection onto a convex set
        (``None``), declares itself non-convex (``False``), or fits a convex
        set but only approximates the minimiser (a gradient-trained head:
        the warning gives its ``kkt_residual_`` when fitted).

    See Also
    --------
    is_convex_head : The test itself.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skwtsg.heads import check_head_convexity
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_head_convexity(RandomForestRegressor())
    >>> print(caught[0].message)
    RandomForestRegressor is not known to be a projection onto a convex set:
    Theorem 1 (err(strong) <= err(weak) - misfit) does not apply...
    """
    convex, exact = is_convex_head(head, return_exact=True)
    name = type(head).__name__
    if convex is True and not exact:
        residual = getattr(_last_step(head), "kkt_residual_", None)
        measured = (
            f" (this fit: relative gradient norm kkt_residual_={residual:.2g})"
            if residual is not None
            else " (reported as kkt_residual_ once fitted)"
        )
        warnings.warn(
            f"{name} fits a convex set of functions but only approximates the "
            "least-squares minimiser with a gradient method: Theorem 1 "
            "(err(strong) <= err(weak) - misfit) holds only up to the "
            f"optimisation error{measured}. Use an exact head from "
            "skwtsg.heads (e.g. LeastSquaresHead) for the guarantee.",
            UserWarning,
            stacklevel=2,
        )
        return True
    if convex is True:
        return True
    if convex is False:
        what = "is not convex"
    else:
        what = "is not known to be a projection onto a convex set"
    warnings.warn(
        f"{name} {what}: Theorem 1 (err(strong) <= err(weak) - misfit) does not "
        "apply, so the gain is not guaranteed to be at least the misfit and "
        "bound_ is not a guaranteed upper bound. Use a head from skwtsg.heads "
        "(e.g. LeastSquaresHead) for the guarantee.",
        UserWarning,
        stacklevel=2,
    )
    return convex
