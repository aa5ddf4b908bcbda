"""Is a head a projection onto a convex set? (When Theorem 1 applies.)"""

from __future__ import annotations

import warnings

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


def is_convex_head(estimator):
    """Whether a regressor is known to be a least-squares projection onto a convex set.

    Theorem 1 of Charikar et al. (2024) needs the strong head to be the exact
    least-squares minimiser over a convex set of functions ``F_s``. This
    function reports what is known about a (fitted or unfitted) head.

    Parameters
    ----------
    estimator : estimator instance
        The head: a regressor, or a :class:`~sklearn.pipeline.Pipeline` whose
        last step is the regressor (its other steps are then part of the
        representation ``h_s``).

    Returns
    -------
    convex : bool or None
        - ``True`` when the estimator declares ``_skwtsg_convex = True`` (all
          heads of :mod:`skwtsg.heads`), or is a known least-squares
          scikit-learn regressor over a convex set: ``LinearRegression``,
          ``Ridge``, ``RidgeCV``, ``Lasso``, ``LassoCV``, ``ElasticNet``,
          ``ElasticNetCV``, ``LassoLars``, ``LassoLarsCV``, ``LassoLarsIC``,
          ``MultiTaskLasso``, ``MultiTaskElasticNet``, ``Lars`` when it may
          use every feature (``n_nonzero_coefs >= n_features_in_``, known
          after fit; otherwise it is a greedy sparse fit, which is not
          convex), and ``IsotonicRegression`` with a fixed direction.
        - ``False`` when the estimator declares ``_skwtsg_convex = False``.
        - ``None`` when unknown, e.g. ``MLPRegressor``, random forests,
          ``HuberRegressor`` (not least squares), ``IsotonicRegression``
          with ``increasing="auto"`` (the cone is chosen from the labels),
          or an unfitted ``Lars``.

    See Also
    --------
    check_head_convexity : Warn when the answer is not ``True``.

    Notes
    -----
    Penalised models (ridge, lasso, elastic net) are projections onto the
    sublevel set of their penalty through the solution (Lagrangian duality),
    so the inequality holds for targets inside that set. Models fitted by an
    iterative solver (coordinate descent, LARS) satisfy it only up to their
    tolerance ``tol``; the heads of :mod:`skwtsg.heads` are exact. The
    ``*CV`` and ``*IC`` variants choose the penalty with the labels: the
    fitted model is still a projection onto a convex set, but the set depends
    on the data.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.neural_network import MLPRegressor
    >>> from skwtsg.heads import LeastSquaresHead, is_convex_head
    >>> is_convex_head(LeastSquaresHead()), is_convex_head(Ridge())
    (True, True)
    >>> print(is_convex_head(MLPRegressor()))
    None
    """
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        last = estimator.steps[-1][1] if estimator.steps else None
        if last is None or last == "passthrough":
            return None
        return is_convex_head(last)
    declared = getattr(estimator, "_skwtsg_convex", None)
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


def check_head_convexity(head):
    """Warn when Theorem 1 is not known to apply to a head.

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
        (``None``) or declares itself non-convex (``False``).

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
    convex = is_convex_head(head)
    if convex is True:
        return True
    name = type(head).__name__
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
