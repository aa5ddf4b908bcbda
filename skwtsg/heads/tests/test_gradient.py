"""Tests of the gradient-trained heads: GradientLinearHead, NonConvexHead."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

torch = pytest.importorskip("torch")

from skwtsg.heads import get_head_tags  # noqa: E402
from skwtsg.heads._gradient import GradientLinearHead, NonConvexHead  # noqa: E402
from skwtsg.heads._phi_linear import _phi_numpy  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """Every test here runs torch on one thread (see skwtsg/conftest.py)."""


@pytest.fixture(scope="module")
def linear_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 4))
    W = rng.normal(size=(4, 3))
    Y = X @ W + [0.5, -1.0, 2.0] + 0.1 * rng.normal(size=(256, 3))
    A = np.hstack([X, np.ones((256, 1))])
    exact = np.linalg.lstsq(A, Y, rcond=None)[0]
    return X, Y, exact


def test_gradient_linear_head_close_to_least_squares(linear_problem):
    X, Y, exact = linear_problem
    # the paper's procedure (AdamW, batch 32), fewer epochs with a larger step
    head = GradientLinearHead(lr=1e-2, max_epochs=60, random_state=0).fit(X, Y)
    assert head.coef_.shape == (3, 4) and head.intercept_.shape == (3,)
    np.testing.assert_allclose(head.coef_, exact[:-1].T, atol=0.02)
    np.testing.assert_allclose(head.intercept_, exact[-1], atol=0.02)
    ls_mse = np.mean((np.hstack([X, np.ones((256, 1))]) @ exact - Y) ** 2)
    assert ls_mse <= head.train_loss_ < 1.05 * ls_mse
    assert len(head.loss_curve_) == head.n_iter_ == 60
    assert head.loss_curve_[-1] < head.loss_curve_[0]
    # a convex set, an approximate minimiser: its tags say so
    tags = get_head_tags(head)
    assert tags.convex is True and tags.exact is False
    assert 0 < head.kkt_residual_ < 0.05


def test_gradient_linear_head_lbfgs_is_exact(linear_problem):
    X, Y, exact = linear_problem
    head = GradientLinearHead(
        optimizer="lbfgs", lr=None, max_epochs=200, tol=1e-14
    ).fit(X, Y)
    np.testing.assert_allclose(head.coef_, exact[:-1].T, rtol=1e-6, atol=1e-8)
    A = np.hstack([X, np.ones((256, 1))])
    np.testing.assert_allclose(head.predict(X), A @ exact, atol=1e-6)
    assert head.kkt_residual_ < 1e-6


def test_kkt_residual_is_the_relative_gradient_norm(linear_problem):
    """kkt_residual_ is 1 at the origin, 0 at the exact solution (numpy)."""
    from skwtsg.heads._gradient import _relative_gradient_norm

    X, Y, exact = linear_problem
    w = np.full(X.shape[0], 1.0 / X.shape[0])
    kw = dict(fit_intercept=True, weight_decay=0.0)
    zero = _relative_gradient_norm(X, Y, w, np.zeros((4, 3)), np.zeros(3), **kw)
    best = _relative_gradient_norm(X, Y, w, exact[:-1], exact[-1], **kw)
    assert zero == pytest.approx(1.0) and best < 1e-12
    # a head stopped early reports a larger optimisation error
    short = GradientLinearHead(lr=1e-3, max_epochs=2, random_state=0).fit(X, Y)
    longer = GradientLinearHead(lr=1e-2, max_epochs=60, random_state=0).fit(X, Y)
    assert short.kkt_residual_ > 10 * longer.kkt_residual_


@pytest.mark.parametrize(
    "params",
    [
        {"optimizer": "sgd", "lr": 10.0},  # a step size that diverges
        {"optimizer": "adam", "lr": 1e30, "dtype": "float32"},
    ],
)
def test_divergence_raises_naming_the_learning_rate(linear_problem, params):
    from skwtsg._utils._torch import TrainingDivergedError

    X, Y, _ = linear_problem
    head = GradientLinearHead(max_epochs=5, random_state=0, **params)
    with pytest.raises(
        TrainingDivergedError, match="GradientLinearHead diverged.*`lr`"
    ):
        head.fit(X * 1e3, Y)
    for kind in (ValueError, FloatingPointError):  # like sklearn's MLP; numpy's
        with pytest.raises(kind):
            head.fit(X * 1e3, Y)


def test_gradient_linear_head_single_output_and_options(linear_problem):
    X, Y, exact = linear_problem
    head = GradientLinearHead(
        optimizer="lbfgs", lr=None, standardize=True, init="lstsq", tol=1e-14
    ).fit(X * 100 + 5, Y[:, 0])
    assert head.coef_.shape == (4,) and isinstance(head.intercept_, float)
    np.testing.assert_allclose(head.coef_ * 100, exact[:-1, 0], rtol=1e-6)
    no_intercept = GradientLinearHead(
        optimizer="lbfgs", lr=None, fit_intercept=False, tol=1e-14
    ).fit(X, Y)
    np.testing.assert_array_equal(no_intercept.intercept_, np.zeros(3))
    expected = np.linalg.lstsq(X, Y, rcond=None)[0].T
    np.testing.assert_allclose(no_intercept.coef_, expected, rtol=1e-6)


def test_gradient_head_determinism_and_pickle(linear_problem):
    X, Y, _ = linear_problem
    kw = dict(max_epochs=3, random_state=0)
    a = GradientLinearHead(**kw).fit(X, Y)
    b = clone(a).fit(X, Y)
    c = GradientLinearHead(max_epochs=3, random_state=1).fit(X, Y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.allclose(a.coef_, c.coef_)
    loaded = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(loaded.predict(X), a.predict(X))


def test_sample_weight_matches_repetition(linear_problem):
    X, Y, _ = linear_problem
    w = np.r_[np.full(128, 2.0), np.ones(128)]
    X_rep = np.vstack([X[:128], X])
    Y_rep = np.vstack([Y[:128], Y])
    kw = dict(optimizer="lbfgs", lr=None, tol=1e-14)
    weighted = GradientLinearHead(**kw).fit(X, Y, sample_weight=w)
    repeated = GradientLinearHead(**kw).fit(X_rep, Y_rep)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_nonconvex_head_recovers_phi_linear_target(activation):
    rng = np.random.default_rng(1)
    X = rng.normal(scale=10.0, size=(400, 5)) + 3.0  # raw, unstandardised scale
    W = rng.normal(size=(5, 2)) / 10.0
    b = np.array([0.2, -0.3])
    head = NonConvexHead(activation, random_state=0)
    Y = _phi_numpy(activation, X @ W + b)
    head.fit(X, Y)
    assert head.train_loss_ < 1e-8
    np.testing.assert_allclose(head.predict(X), Y, atol=1e-4)
    if activation != "relu":  # relu: units off everywhere are not identified
        np.testing.assert_allclose(head.coef_, W.T, rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(head.intercept_, b, atol=1e-3)
    assert get_head_tags(head).convex is False


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_nonconvex_head_multi_output_is_the_per_output_fits(activation, fit_intercept):
    # "lm" solves each task on its own: the multi-output fit is the fits of
    # each column alone, with the same weights and penalty
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 4)) * [1.0, 5.0, 0.2, 2.0]
    W = rng.normal(size=(4, 3))
    Y = _phi_numpy(activation, X @ W / 3 + 0.2) + 0.1 * rng.normal(size=(150, 3))
    sw = rng.uniform(0.5, 2.0, size=150)
    kw = dict(weight_decay=0.05, fit_intercept=fit_intercept, random_state=0)
    joint = NonConvexHead(activation, **kw).fit(X, Y, sample_weight=sw)
    assert joint.coef_.shape == (3, 4)
    for t in range(3):
        alone = NonConvexHead(activation, **kw).fit(X, Y[:, t], sample_weight=sw)
        np.testing.assert_allclose(joint.coef_[t], alone.coef_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(
            np.atleast_1d(joint.intercept_)[t] if fit_intercept else 0.0,
            alone.intercept_,
            atol=1e-12,
        )
        np.testing.assert_allclose(
            joint.predict(X)[:, t], alone.predict(X), rtol=1e-10, atol=1e-12
        )


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_nonconvex_head_lm_reaches_lbfgs_objective(activation):
    # the same (penalised, weighted) objective, each task's minimum at least
    # as low as the joint L-BFGS run's
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 5))
    Y = _phi_numpy(activation, X @ rng.normal(size=(5, 4))) + 0.2 * rng.normal(
        size=(300, 4)
    )
    kw = dict(weight_decay=0.01, standardize=False, random_state=0)
    lm = NonConvexHead(activation, **kw).fit(X, Y)
    lbfgs = NonConvexHead(activation, optimizer="lbfgs", tol=1e-14, **kw).fit(X, Y)

    def objective(head):
        mse = ((head.predict(X) - Y) ** 2).mean(axis=0)
        return mse + 0.5 * 0.01 * (head.coef_**2).sum(axis=1)

    assert np.all(objective(lm) <= objective(lbfgs) + 1e-9)
    np.testing.assert_allclose(lm.coef_, lbfgs.coef_, atol=1e-4)
    assert lm.n_iter_ >= 1 and len(lm.loss_curve_) == 2
    assert lm.loss_curve_[-1] <= lm.loss_curve_[0]


def test_nonconvex_head_lm_warns_and_refuses_torch_settings():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 3))
    y = np.tanh(X @ [1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=100)
    with pytest.warns(ConvergenceWarning, match="1 of 1 tasks"):
        NonConvexHead(init="random", max_epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="float64"):
        NonConvexHead(dtype="float32").fit(X, y)
    with pytest.raises(ValueError, match="device='cpu'"):
        NonConvexHead(device="cuda").fit(X, y)


def test_nonconvex_head_adamw_and_random_init():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 3))
    y = np.tanh(X @ [1.0, -0.5, 0.25])
    head = NonConvexHead(
        optimizer="adamw", init="random", lr=1e-2, max_epochs=30, random_state=0
    ).fit(X, y)
    assert head.loss_curve_[-1] < 0.2 * head.loss_curve_[0]
    assert head.predict(X).shape == (200,)
    assert np.all(np.abs(head.predict(X)) <= 1)


def test_invalid_parameters():
    X, y = np.ones((10, 2)), np.ones(10)
    with pytest.raises(ValueError, match="activation"):
        NonConvexHead("swish").fit(X, y)
    with pytest.raises(ValueError, match="optimizer"):
        GradientLinearHead(optimizer="rmsprop").fit(X, y)
    with pytest.raises(ValueError, match="[Ss]ample.weight"):
        GradientLinearHead(max_epochs=1).fit(X, y, sample_weight=np.zeros(10))


@parametrize_with_checks(
    [
        GradientLinearHead(optimizer="lbfgs", lr=None, max_epochs=100, random_state=0),
        GradientLinearHead(lr=1e-2, max_epochs=20, random_state=0),
        NonConvexHead("tanh", random_state=0),
        NonConvexHead("tanh", optimizer="lbfgs", max_epochs=50, random_state=0),
    ],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
