"""is_convex_head and check_head_convexity."""

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import RandomForestRegressor
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import (
    ElasticNet,
    HuberRegressor,
    Lars,
    Lasso,
    LassoLars,
    LinearRegression,
    Ridge,
    RidgeCV,
)
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skwtsg.heads import (
    BallLeastSquaresHead,
    IsotonicHead,
    LeastSquaresHead,
    NonNegativeLeastSquaresHead,
    RidgeHead,
    check_head_convexity,
    is_convex_head,
)


class _NonConvexHead(RegressorMixin, BaseEstimator):
    _skwtsg_convex = False


@pytest.mark.parametrize(
    "head",
    [
        LeastSquaresHead(),
        RidgeHead(),
        NonNegativeLeastSquaresHead(),
        BallLeastSquaresHead(),
        IsotonicHead(),
        LinearRegression(),
        LinearRegression(positive=True),
        Ridge(),
        RidgeCV(),
        Lasso(),
        ElasticNet(),
        LassoLars(),
        IsotonicRegression(increasing=False),
        make_pipeline(StandardScaler(), Ridge()),
    ],
)
def test_convex_heads(head):
    assert is_convex_head(head) is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_head_convexity(head) is True


@pytest.mark.parametrize(
    "head",
    [
        MLPRegressor(),
        RandomForestRegressor(),
        HuberRegressor(),
        IsotonicRegression(increasing="auto"),
        Lars(),  # unfitted: n_nonzero_coefs may stop it early
        make_pipeline(StandardScaler(), MLPRegressor()),
    ],
)
def test_unknown_heads_warn(head):
    assert is_convex_head(head) is None
    with pytest.warns(UserWarning, match="not known to be a projection onto a convex"):
        assert check_head_convexity(head) is None


def test_declared_non_convex_warns():
    assert is_convex_head(_NonConvexHead()) is False
    with pytest.warns(UserWarning, match="is not convex: Theorem 1 .* does not apply"):
        assert check_head_convexity(_NonConvexHead()) is False


def test_lars_depends_on_its_sparsity_limit():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.normal(size=30)
    assert is_convex_head(Lars(n_nonzero_coefs=10).fit(X, y)) is True
    assert is_convex_head(Lars(n_nonzero_coefs=2).fit(X, y)) is None


def test_warning_names_the_head():
    with pytest.warns(UserWarning, match="^MLPRegressor is not known"):
        check_head_convexity(MLPRegressor())


def test_gradient_head_is_convex_but_approximate():
    """A gradient-trained head: a convex set, an approximate minimiser."""
    pytest.importorskip("torch")
    from skwtsg.heads import GradientLinearHead

    head = GradientLinearHead(max_epochs=3, lr=1e-2, random_state=0)
    assert is_convex_head(head) is True
    assert is_convex_head(head, return_exact=True) == (True, False)
    assert is_convex_head(make_pipeline(StandardScaler(), head), return_exact=True) == (
        True,
        False,
    )
    with pytest.warns(UserWarning, match="only up to the optimisation error"):
        assert check_head_convexity(head) is True
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    head.fit(X, X @ [1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match=r"kkt_residual_=\d"):
        check_head_convexity(head)


def test_exact_heads_are_exact():
    from skwtsg.heads import LeastSquaresHead

    assert is_convex_head(LeastSquaresHead(), return_exact=True) == (True, True)
    assert is_convex_head(Ridge(), return_exact=True) == (True, True)
