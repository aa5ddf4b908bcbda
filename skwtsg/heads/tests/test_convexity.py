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
    HeadTags,
    IsotonicHead,
    LeastSquaresHead,
    NonNegativeLeastSquaresHead,
    RidgeHead,
    SkwtsgTags,
    SoftmaxHead,
    check_head_convexity,
    get_head_tags,
    is_convex_head,
)


class _DeclaredHead(RegressorMixin, BaseEstimator):
    """A custom head that declares its ``head_tags`` (as the user guide shows)."""

    def __init__(self, convex=None, exact=True):
        self.convex = convex
        self.exact = exact

    def __sklearn_tags__(self):
        tags = SkwtsgTags.from_tags(super().__sklearn_tags__())
        tags.head_tags = HeadTags(convex=self.convex, exact=self.exact)
        return tags


def _NonConvexHead():
    return _DeclaredHead(convex=False)


@pytest.mark.parametrize(
    "head",
    [
        LeastSquaresHead(),
        RidgeHead(),
        NonNegativeLeastSquaresHead(),
        BallLeastSquaresHead(),
        IsotonicHead(),
        SoftmaxHead(),
        _DeclaredHead(convex=True),
        make_pipeline(StandardScaler(), _DeclaredHead(convex=True)),
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
        _DeclaredHead(convex=None),  # SkwtsgTags that declare nothing
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


def test_declared_approximate_head_warns():
    head = _DeclaredHead(convex=True, exact=False)
    assert is_convex_head(head, return_exact=True) == (True, False)
    pipe = make_pipeline(StandardScaler(), head)
    assert is_convex_head(pipe, return_exact=True) == (True, False)
    with pytest.warns(UserWarning, match="only up to the optimisation error"):
        assert check_head_convexity(head) is True


def test_tags_replace_the_private_attributes():
    """The former class attribute ``_skwtsg_convex`` is not read any more."""

    class Legacy(RegressorMixin, BaseEstimator):
        _skwtsg_convex = True

    assert is_convex_head(Legacy()) is None


@pytest.mark.parametrize("obj", [None, "passthrough", object(), LeastSquaresHead])
def test_objects_without_head_tags_declare_nothing(obj):
    assert get_head_tags(obj) == HeadTags()


def test_skwtsg_tags_pass_the_tag_checks():
    from sklearn.utils.estimator_checks import check_valid_tag_types

    check_valid_tag_types("_DeclaredHead", _DeclaredHead(convex=True))
    tags = SkwtsgTags.from_tags(_DeclaredHead().__sklearn_tags__())
    assert tags.head_tags == HeadTags(convex=None)
    with pytest.raises(AttributeError):
        tags.head_tag = HeadTags()  # slots: a misspelt tag is an error
