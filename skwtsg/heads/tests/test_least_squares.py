"""LeastSquaresHead and RidgeHead against reference solvers."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import linalg
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge

from skwtsg.heads import (
    BallLeastSquaresHead,
    LeastSquaresHead,
    RidgeHead,
    pythagorean_gap,
)
from skwtsg.heads._problem import _prepare_problem
from skwtsg.heads._solvers import (
    _certificate,
    _cholesky_rcond,
    _safe_ratio,
    _solve_ridge_dual,
    _solve_ridge_family,
    _stationarity_residual,
    _triangular_reduction,
)


def _lstsq_reference(X, Y, sample_weight=None, fit_intercept=True):
    """Minimum-norm weighted least squares by numpy on the augmented design."""
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.sqrt(sample_weight)
    A = np.column_stack([np.ones(n), X]) if fit_intercept else X
    coef = np.linalg.lstsq(A * sw[:, None], Y * sw.reshape(-1, *[1] * (Y.ndim - 1)))
    return A @ coef[0]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6)) * [1.0, 500.0, 0.01, 3.0, 1.0, 50.0] + 7.0
    Y = X @ rng.normal(size=(6, 3)) + rng.normal(size=(80, 3))
    w = rng.uniform(0.0, 2.0, size=80)
    w[:5] = 0.0
    return X, Y, w


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_least_squares_matches_lstsq(data, weighted, fit_intercept):
    X, Y, w = data
    w = w if weighted else None
    head = LeastSquaresHead(fit_intercept=fit_intercept).fit(X, Y, sample_weight=w)
    assert head.solver_ == "cholesky"
    assert head.kkt_residual_ <= 1e-8
    assert head.coef_.shape == (3, 6) and head.intercept_.shape == (3,)
    expected = _lstsq_reference(X, Y, w, fit_intercept)
    assert_allclose(head.predict(X), expected, rtol=1e-9, atol=1e-9 * np.abs(Y).max())
    lr = LinearRegression(fit_intercept=fit_intercept).fit(X, Y, sample_weight=w)
    assert_allclose(head.coef_, lr.coef_, rtol=1e-7)
    assert_allclose(head.intercept_, lr.intercept_, rtol=1e-7, atol=1e-9)


def test_least_squares_1d_y_shapes(data):
    X, Y, _ = data
    head = LeastSquaresHead().fit(X, Y[:, 0])
    assert head.coef_.shape == (6,)
    assert isinstance(head.intercept_, float)
    assert head.predict(X).shape == (80,)
    head_2d = LeastSquaresHead().fit(X, Y[:, :1])
    assert head_2d.coef_.shape == (1, 6) and head_2d.predict(X).shape == (80, 1)
    assert_allclose(head_2d.coef_[0], head.coef_, rtol=1e-12)


def test_joint_fit_equals_per_target_fits(data):
    X, Y, w = data
    joint = LeastSquaresHead().fit(X, Y, sample_weight=w)
    for k in range(Y.shape[1]):
        single = LeastSquaresHead().fit(X, Y[:, k], sample_weight=w)
        assert_allclose(joint.coef_[k], single.coef_, rtol=1e-10)
        assert_allclose(joint.intercept_[k], single.intercept_, rtol=1e-10)


def test_rank_deficient_gives_the_projection(data):
    X, Y, w = data
    X = np.column_stack([X, 2.5 * X[:, 0], X[:, 1] - X[:, 3]])  # rank 6 of 8
    head = LeastSquaresHead().fit(X, Y, sample_weight=w)
    assert head.solver_ == "qr"
    assert head.kkt_residual_ <= 1e-8
    expected = _lstsq_reference(X, Y, w)
    assert_allclose(head.predict(X), expected, rtol=1e-8, atol=1e-8 * np.abs(Y).max())
    lr = LinearRegression().fit(X, Y, sample_weight=w)
    assert_allclose(head.predict(X), lr.predict(X), rtol=1e-8, atol=1e-8)
    # minimum norm: the duplicated directions share the weight
    assert np.linalg.norm(head.coef_) <= np.linalg.norm(lr.coef_) * (1 + 1e-8)


def test_more_features_than_samples():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(5, 12)), rng.normal(size=5)
    head = LeastSquaresHead().fit(X, y)
    assert_allclose(head.predict(X), y, atol=1e-10)
    assert_allclose(head.coef_, np.linalg.pinv(X - X.mean(0)) @ (y - y.mean()))
    assert head.kkt_residual_ <= 1e-8


def test_near_collinear_large_scale_certificate():
    rng = np.random.default_rng(2)
    z = rng.normal(size=200)
    X = np.column_stack(
        [500 * z, 500 * (z + 1e-5 * rng.normal(size=200)), rng.normal(size=200)]
    )
    X += 1000.0
    y = X @ [1.0, -1.0, 2.0] + rng.normal(size=200)
    head = LeastSquaresHead().fit(X, y)
    assert head.solver_ == "qr"
    assert head.kkt_residual_ <= 1e-8
    assert_allclose(head.predict(X), _lstsq_reference(X, y), rtol=1e-7)


def test_constant_column_gets_zero_coefficient():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(size=50), np.full(50, 3.7)])
    y = 2 * X[:, 0] + 1
    head = LeastSquaresHead().fit(X, y)
    assert head.coef_[1] == 0.0
    assert_allclose(head.coef_[0], 2.0)
    assert_allclose(head.intercept_, 1.0)


def test_perfect_fit_certificate_is_rounding_level():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(100, 4))
    y = X @ [1.0, 2.0, 3.0, 4.0] + 5.0
    assert LeastSquaresHead().fit(X, y).kkt_residual_ <= 1e-12


def test_certificate_detects_a_wrong_solution(data):
    """The certificate is not vacuous: perturbing the solution raises it."""
    X, Y, _ = data

    head = LeastSquaresHead().fit(X, Y)
    problem = _prepare_problem(X, Y, None, True)
    coef = head.coef_.T * (1 + 1e-3)
    grad = problem.residual_pass(coef)
    cert = _stationarity_residual(grad, coef, problem.col_norms, problem.y_norms)
    assert cert.max() > 1e-6


def test_large_offsets_predictions_are_centred():
    """Predictions avoid the cancellation of intercept_ and X @ coef_."""
    rng = np.random.default_rng(5)
    z = rng.normal(size=(60, 2))
    X = np.column_stack([z[:, 0], z[:, 0] + 1e-3 * z[:, 1]]) + 1e4
    y = rng.normal(size=60)
    head = LeastSquaresHead().fit(X, y)
    y_hat = head.predict(X)
    Xc = X - X.mean(0)
    assert_allclose(y_hat - y_hat.mean(), Xc @ head.coef_, atol=1e-9)
    assert abs(np.mean(y - y_hat)) <= 1e-10
    assert abs(Xc.T @ (y - y_hat)).max() <= 1e-8 * np.linalg.norm(Xc, axis=0).max()


def test_dataframe_feature_names(data):
    pd = pytest.importorskip("pandas")
    X, Y, _ = data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    head = LeastSquaresHead().fit(df, Y[:, 0])
    assert list(head.feature_names_in_) == list(df.columns)
    assert head.n_features_in_ == 6
    assert_allclose(head.predict(df), X @ head.coef_ + head.intercept_, rtol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 1e-3, 1.0, 1e4])
def test_ridge_matches_sklearn(data, alpha, weighted):
    X, Y, w = data
    w = w if weighted else None
    head = RidgeHead(alpha=alpha).fit(X, Y, sample_weight=w)
    ref = Ridge(alpha=alpha, solver="cholesky").fit(X, Y, sample_weight=w)
    assert head.kkt_residual_ <= 1e-8
    assert_allclose(head.coef_, ref.coef_, rtol=1e-6, atol=1e-10)
    assert_allclose(head.predict(X), ref.predict(X), rtol=1e-8)


def test_ridge_zero_alpha_is_least_squares(data):
    X, Y, w = data
    assert_allclose(
        RidgeHead(alpha=0.0).fit(X, Y, sample_weight=w).coef_,
        LeastSquaresHead().fit(X, Y, sample_weight=w).coef_,
        rtol=1e-10,
    )


def test_ridge_is_the_projection_onto_its_ball(data):
    """Lagrangian equivalence: ridge = ball-constrained LS of radius ‖coef_‖."""
    X, Y, w = data
    ridge = RidgeHead(alpha=50.0).fit(X, Y[:, 0], sample_weight=w)
    radius = np.linalg.norm(ridge.coef_)
    ball = BallLeastSquaresHead(radius=radius).fit(X, Y[:, 0], sample_weight=w)
    assert_allclose(ball.coef_, ridge.coef_, rtol=1e-7)
    assert_allclose(ball.multiplier_, 50.0, rtol=1e-6)


def test_ridge_ill_conditioned_small_alpha():
    rng = np.random.default_rng(6)
    z = rng.normal(size=300)
    X = np.column_stack([z, z + 1e-6 * rng.normal(size=300), rng.normal(size=300)])
    y = rng.normal(size=300)
    head = RidgeHead(alpha=1e-9).fit(X, y)
    assert head.solver_ == "qr"
    assert head.kkt_residual_ <= 1e-8
    # Reference: the ridge problem as an augmented least-squares problem solved by
    # lstsq (backward stable). Solving the normal equations squares the condition
    # number (~1e12 here) and is itself wrong by ~1e-6, so it cannot be the reference.
    Xc, yc = X - X.mean(0), y - y.mean()
    augmented = np.vstack([Xc, np.sqrt(1e-9) * np.eye(3)])
    expected = np.linalg.lstsq(augmented, np.r_[yc, np.zeros(3)], rcond=None)[0]
    assert_allclose(Xc @ head.coef_, Xc @ expected, atol=1e-9)


@pytest.mark.parametrize(
    "head, name",
    [
        (RidgeHead(alpha=-1.0), "alpha"),
        (RidgeHead(alpha="big"), "alpha"),
        (LeastSquaresHead(fit_intercept="yes"), "fit_intercept"),
        (RidgeHead(fit_intercept=None), "fit_intercept"),
    ],
)
def test_invalid_parameters(data, head, name):
    X, Y, _ = data
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        head.fit(X, Y)


def test_negative_sample_weight_rejected(data):
    X, Y, w = data
    with pytest.raises(ValueError, match="[Nn]egative"):
        LeastSquaresHead().fit(X, Y, sample_weight=-w)


def test_clone_and_refit(data):
    X, Y, _ = data
    head = LeastSquaresHead().fit(X, Y)
    again = clone(head).fit(X, Y)
    assert_allclose(again.coef_, head.coef_)
    assert not hasattr(clone(head), "coef_")


def _large_mean_design(seed, n=300, d=6):
    """Features whose means are ~1000x their spread, condition number ~3e5."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.normal(size=(n, d)))
    V, _ = np.linalg.qr(rng.normal(size=(d, d)))
    Z = (U * np.logspace(0, -5.5, d)) @ V.T * np.sqrt(n)
    X = 1000.0 * (1.0 + rng.uniform(size=d)) + Z
    y_star = X @ rng.normal(size=d) + 3.0
    return X, y_star, y_star + rng.normal(size=n)


@pytest.mark.parametrize("seed", range(8))
def test_pythagorean_identity_with_large_feature_means(seed):
    # Regression: the intercept was ȳ - x̄ᵀb, which assumes the
    # centred columns sum to exactly zero; rounding broke the identity
    # (relative slack up to 4e-9 on these seeds) while kkt_residual_ stayed
    # at 1e-13.
    X, y_star, y_weak = _large_mean_design(seed)
    head = LeastSquaresHead().fit(X, y_weak)
    gap = pythagorean_gap(y_weak, head.predict(X), y_star)
    assert abs(gap) / np.mean((y_weak - y_star) ** 2) <= 1e-10
    assert head.kkt_residual_ <= 1e-10


@pytest.mark.parametrize("head", [LeastSquaresHead(), RidgeHead(alpha=1e-3)])
def test_intercept_certificate_catches_a_wrong_intercept(head):
    from skwtsg.heads._base import _fit_intercept, _mean_residual

    worst_old = 0.0
    for seed in range(8):
        X, _, y_weak = _large_mean_design(seed)
        head.fit(X, y_weak)
        # Weighted residuals of the fitted head sum to zero (relative).
        resid = y_weak - head.predict(X)
        scale = np.sqrt(len(y_weak)) * np.linalg.norm(y_weak - y_weak.mean())
        assert abs(resid.sum()) / scale <= 1e-12
        # The certificate of the old intercept (ȳ) is what flags it.
        problem = _prepare_problem(X, y_weak[:, None], None, True)
        coef = head.coef_[:, None]
        delta, w_sum = _mean_residual(problem, coef, problem.y_offset)
        old = np.sqrt(w_sum) * abs(delta[0]) / problem.y_norms[0]
        worst_old = max(worst_old, old)
        _, cert = _fit_intercept(problem, coef)
        assert cert[0] <= 1e-12
    if isinstance(head, LeastSquaresHead):  # ridge shrinks b, hence the error
        assert worst_old > 1e-10


@pytest.mark.parametrize("shape", [(40, 120), (150, 12)], ids=["wide", "tall"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("multi", [False, True])
def test_ridge_dual_matches_primal(shape, weighted, fit_intercept, multi):
    """The n × n (kernel) form gives the primal coefficients and certificate."""
    rng = np.random.default_rng(11)
    n, d = shape
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, d) + rng.normal(size=d) * 2
    Y = X @ rng.normal(size=(d, 3)) / d + rng.normal(size=(n, 3))
    y = Y if multi else Y[:, 0]
    w = None
    if weighted:
        w = rng.uniform(0.2, 3.0, n)
        w[:3] = 0.0  # zero-weight rows: zero rows of the weighted design
    alpha = 0.3 * n
    primal = RidgeHead(alpha, fit_intercept=fit_intercept, solver="cholesky")
    dual = RidgeHead(alpha, fit_intercept=fit_intercept, solver="dual")
    primal.fit(X, y, sample_weight=w)
    dual.fit(X, y, sample_weight=w)
    assert dual.solver_ == "dual"
    assert_allclose(
        dual.coef_, primal.coef_, rtol=1e-12, atol=1e-12 * abs(primal.coef_).max()
    )
    assert_allclose(dual.intercept_, primal.intercept_, rtol=1e-12, atol=1e-12)
    assert_allclose(dual.predict(X), primal.predict(X), rtol=1e-12, atol=1e-12)
    assert dual.kkt_residual_ <= 1e-12
    ref = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    assert_allclose(dual.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    auto = RidgeHead(alpha, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    assert (auto.solver_ == "dual") is (n < d)


def test_ridge_dual_certificate_detects_a_wrong_solution():
    """The dual path's certificate is measured on the data, not assumed."""

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 80)), rng.normal(size=(30, 1))
    problem = _prepare_problem(X, y, None, True, gram=False)
    assert problem.gram is None and problem.xty is None
    coef, cert, solver = _solve_ridge_dual(problem, 5.0)
    assert solver == "dual" and cert.max() <= 1e-12
    act = problem.active
    norms = problem.col_norms[act], problem.y_norms
    # The certificate recomputed from scratch, then for perturbed coefficients.
    for factor, small in ((1.0, True), (1.01, False)):
        b = coef[act] * factor
        resid = (y - y.mean()) - (X - X.mean(0))[:, act] @ b
        viol = _stationarity_residual((X - X.mean(0))[:, act].T @ resid, b, *norms, 5.0)
        assert bool(viol.max() <= 1e-12) is small


def test_ridge_dual_zero_alpha_falls_back_to_qr():
    """alpha=0 with an intercept: Xt Xtᵀ is singular, so the QR path is taken."""
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(20, 60)), rng.normal(size=20)
    head = RidgeHead(alpha=0.0, solver="dual").fit(X, y)
    assert head.solver_ == "qr"
    assert_allclose(
        head.coef_, np.linalg.pinv(X - X.mean(0)) @ (y - y.mean()), atol=1e-10
    )
    no_intercept = RidgeHead(alpha=0.0, fit_intercept=False, solver="dual").fit(X, y)
    assert no_intercept.solver_ == "dual"  # full row rank: the min-norm interpolant
    assert_allclose(no_intercept.coef_, np.linalg.pinv(X) @ y, atol=1e-10)


def test_ridge_partial_fit_ignores_solver():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(30, 50)), rng.normal(size=30)
    head = RidgeHead(alpha=2.0, solver="dual")
    head.partial_fit(X[:15], y[:15]).partial_fit(X[15:], y[15:])
    full = RidgeHead(alpha=2.0, solver="dual").fit(X, y)
    assert full.solver_ == "dual" and head.solver_ != "dual"
    assert_allclose(head.coef_, full.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("adversarial", [False, True])
def test_shifted_one_pass_centring_matches_lstsq(weighted, adversarial):
    """The sampled shift (and its exact-mean fallback) keep the fit exact.

    A feature that is shifted on the rows the strided sample skips makes it a
    poor estimate of that mean, which takes the second pass.
    """
    from skwtsg.heads import _constants, _problem

    rng = np.random.default_rng(7)
    step = 40  # the sample reads every 40th row
    n = step * _constants.SHIFT_SAMPLE
    X = rng.normal(size=(n, 4)) * [1.0, 1e-3, 10.0, 1.0] + [3.0, 1e3, -50.0, 0.0]
    Y = X @ rng.normal(size=(4, 3)) + rng.normal(size=(n, 3)) + [1e4, 0.0, -7.0]
    if adversarial:
        # The sample misses the shift of 39 rows in 40: its mean is off by
        # sqrt(39) standard deviations, beyond the limit of 4.
        X[np.arange(n) % step != 0, 0] += 50.0
    w = rng.uniform(0.1, 2.0, size=n) if weighted else None
    calls = []
    original = _problem._accumulate

    def counting(*args):
        calls.append(1)
        return original(*args)

    _problem._accumulate = counting
    try:
        head = LeastSquaresHead().fit(X, Y, sample_weight=w)
    finally:
        _problem._accumulate = original
    assert len(calls) == (2 if adversarial else 1)
    sw = np.ones(n) if w is None else w
    xc = np.sqrt(sw)[:, None] * (X - np.average(X, axis=0, weights=sw))
    yc = np.sqrt(sw)[:, None] * (Y - np.average(Y, axis=0, weights=sw))
    ref = np.linalg.lstsq(xc, yc, rcond=None)[0]  # exactly centred reference
    assert_allclose(head.coef_, ref.T, rtol=1e-10, atol=1e-12)
    assert_allclose(head.predict(X), _lstsq_reference(X, Y, w), rtol=1e-10, atol=1e-9)
    problem = _problem._prepare_problem(X, Y, w, True)
    assert_allclose(problem.gram, xc.T @ xc, rtol=1e-10, atol=1e-9)
    assert_allclose(problem.xty, xc.T @ yc, rtol=1e-10, atol=1e-9)
    assert_allclose(problem.yty, np.sum(yc**2, axis=0), rtol=1e-10)


@pytest.mark.parametrize("head", [LeastSquaresHead(), RidgeHead(solver="dual")])
@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_input_raises_the_check_array_error(head, where, value):
    """Finiteness is read from the pass statistics: the same error as before."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 40)), rng.normal(size=30)
    w = np.ones(30)
    w[4] = 0.0  # a zero-weight row does not hide its non-finite entry
    if where == "X":
        X[4, 2] = value
    else:
        y[4] = value
    with pytest.raises(ValueError, match=f"Input {where} contains"):
        clone(head).fit(X, y, sample_weight=w)


@pytest.mark.parametrize("y_mean", [0.0, 1e3])
@pytest.mark.parametrize("adversarial", [False, True])
@pytest.mark.parametrize("n_features", [5, 24])
def test_unshifted_pass_matches_lstsq(y_mean, adversarial, n_features):
    """Small means (within 3.6 standard deviations in the sample): no shift.

    The design is read as given (no copy); targets with a large mean are
    still shifted. When the sample misleads (the rows it skips are shifted),
    the exact-mean pass follows, and the fit is exact either way. With 5
    features the targets' statistics come from blocks of rows; with 24 (at
    least 8 per target and ones column) from one copy ``[Y - s, 1]``.
    """
    from skwtsg.heads import _constants, _problem

    rng = np.random.default_rng(11)
    step = 40
    n = step * _constants.SHIFT_SAMPLE
    reps = -(-n_features // 5)
    scales = np.tile([1.0, 2.0, 0.5, 1.0, 3.0], reps)[:n_features]
    means = np.tile([0.5, -1.0, 0.2, 0.0, 2.0], reps)[:n_features]
    X = rng.normal(size=(n, n_features)) * scales + means
    Y = X @ rng.normal(size=(n_features, 2)) + rng.normal(size=(n, 2)) + y_mean
    if adversarial:
        X[np.arange(n) % step != 0, 1] += 100.0
    shifts = []
    original = _problem._accumulate

    def recording(X_, Y_, sqrt_w, shift_x, shift_y, gram):
        shifts.append((shift_x.copy(), shift_y.copy()))
        return original(X_, Y_, sqrt_w, shift_x, shift_y, gram)

    _problem._accumulate = recording
    try:
        head = LeastSquaresHead().fit(X, Y)
    finally:
        _problem._accumulate = original
    assert not np.any(shifts[0][0])  # the first pass reads X unshifted
    assert np.any(shifts[0][1]) == bool(y_mean)  # and shifts Y if its mean is large
    assert len(shifts) == (2 if adversarial else 1)
    xc, yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    ref = np.linalg.lstsq(xc, yc, rcond=None)[0]
    assert_allclose(head.coef_, ref.T, rtol=1e-10, atol=1e-12)
    assert_allclose(
        head.predict(X), _lstsq_reference(X, Y, None), rtol=1e-10, atol=1e-9
    )
    problem = _problem._prepare_problem(X, Y, None, True)
    assert_allclose(problem.gram, xc.T @ xc, rtol=1e-10, atol=1e-9)
    assert_allclose(problem.xty, xc.T @ yc, rtol=1e-10, atol=1e-9)
    assert_allclose(problem.yty, np.sum(yc**2, axis=0), rtol=1e-10)
    assert_allclose(problem.x_sum, 0.0, atol=1e-8 * n)


def _solver_design(shape, weighted, seed=21):
    """Well-conditioned features with means and scales, three targets."""
    rng = np.random.default_rng(seed)
    n, d = shape
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, d) + rng.normal(size=d) * 3
    Y = X @ rng.normal(size=(d, 3)) + rng.normal(size=(n, 3))
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    return X, Y, w


@pytest.mark.parametrize("head", [LeastSquaresHead(), RidgeHead(alpha=3.0)])
@pytest.mark.parametrize("shape", [(200, 8), (30, 60)], ids=["tall", "wide"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_explicit_solvers_match_auto(head, shape, weighted, fit_intercept):
    """Every explicit solver gives the coefficients of ``solver="auto"``."""
    X, Y, w = _solver_design(shape, weighted)
    head = clone(head).set_params(fit_intercept=fit_intercept)
    auto = clone(head).fit(X, Y, sample_weight=w)
    solvers = ["cholesky", "qr", "dual"]
    if isinstance(head, RidgeHead):
        solvers.append("primal")
    for solver in solvers:
        fitted = clone(head).set_params(solver=solver).fit(X, Y, sample_weight=w)
        # The path asked for, or its documented fallback on a system too
        # badly conditioned (e.g. a singular Gram or kernel matrix).
        named = "cholesky" if solver == "primal" else solver
        assert fitted.solver_ in {named, "qr"}, solver
        # With an intercept (centred columns) these systems are well
        # conditioned: the path named is taken.
        well_conditioned = solver == "qr" or (
            fit_intercept
            and (
                (named == "cholesky" and shape[0] > shape[1])
                or (named == "dual" and isinstance(head, RidgeHead))
            )
        )
        if well_conditioned:
            assert fitted.solver_ == named, solver
        scale = np.abs(auto.coef_).max()
        assert_allclose(fitted.coef_, auto.coef_, rtol=1e-10, atol=1e-10 * scale)
        assert_allclose(
            fitted.intercept_, auto.intercept_, rtol=1e-10, atol=1e-10 * scale
        )
        assert fitted.kkt_residual_ <= 1e-8


@pytest.mark.parametrize("shape", [(200, 8), (30, 60)], ids=["tall", "wide"])
def test_auto_is_the_explicit_choice_bitwise(shape):
    """``"auto"`` takes exactly the path of the explicit solver it names.

    Least squares: ``"cholesky"`` (which falls back to ``"qr"`` by itself);
    ridge: ``"dual"`` with fewer rows than features, otherwise
    ``"cholesky"``. The same preparation and solve: bitwise the same fit.
    """
    X, Y, w = _solver_design(shape, weighted=True)
    pairs = [
        (LeastSquaresHead(), LeastSquaresHead(solver="cholesky")),
        (
            RidgeHead(alpha=3.0),
            RidgeHead(alpha=3.0, solver="dual" if shape[0] < shape[1] else "cholesky"),
        ),
    ]
    for auto, explicit in pairs:
        auto.fit(X, Y, sample_weight=w)
        explicit.fit(X, Y, sample_weight=w)
        assert auto.solver_ == explicit.solver_
        np.testing.assert_array_equal(auto.coef_, explicit.coef_)
        np.testing.assert_array_equal(auto.intercept_, explicit.intercept_)
        assert auto.kkt_residual_ == explicit.kkt_residual_


def test_qr_solver_from_statistics():
    """``partial_fit`` takes ``solver="qr"`` too; ``"dual"`` is ``"cholesky"``."""
    X, Y, _ = _solver_design((200, 8), weighted=False)
    full = LeastSquaresHead().fit(X, Y)
    for solver, path in [("qr", "qr"), ("dual", "cholesky"), ("auto", "cholesky")]:
        head = LeastSquaresHead(solver=solver)
        for rows in np.array_split(np.arange(200), 3):
            head.partial_fit(X[rows], Y[rows])
        assert head.solver_ == path
        assert_allclose(head.coef_, full.coef_, rtol=1e-10)


@pytest.mark.parametrize("head", [LeastSquaresHead(), RidgeHead()])
def test_solver_is_validated(head):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = np.ones((5, 2)), np.ones(5)
    with pytest.raises(InvalidParameterError, match="solver"):
        clone(head).set_params(solver="svd").fit(X, y)


# The solvers' building blocks (_solvers.py) on their contracts: the reduction
# gives RᵀR = XtᵀXt and Rᵀ QᵀYt = XtᵀYt on the active columns, by QR when the
# Gram matrix is too badly conditioned; rcond lies in [0, 1]; _safe_ratio
# broadcasts num / den with 0 / 0 = 0 and x / 0 = inf.


def test_safe_ratio_values_and_broadcasting():
    num = np.array([[1.0, 0.0, 3.0], [2.0, 0.0, -4.0]])
    den = np.array([0.5, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warning: 0 / 0 is 0
        out = _safe_ratio(num, den)
    assert out.shape == (2, 3)
    assert_allclose(out[:, 0], [2.0, 4.0])
    assert_allclose(out[:, 1], [0.0, 0.0])  # 0 / 0
    assert np.all(out[:, 2] == np.inf)  # a nonzero over 0, either sign
    assert _safe_ratio(np.float64(3.0), np.array([[2.0], [4.0]])).shape == (2, 1)
    assert _safe_ratio(np.array([1.0, 1.0]), 4.0).tolist() == [0.25, 0.25]
    assert _safe_ratio(1, 0).tolist() == np.inf


def test_cholesky_rcond_of_small_and_broken_matrices():
    factor, rcond = _cholesky_rcond(np.array([[4.0]]))
    assert factor is not None and rcond == 1.0
    assert_allclose(np.triu(factor[0]), [[2.0]])
    factor, rcond = _cholesky_rcond(np.zeros((0, 0)))
    assert factor is None and 0.0 <= rcond <= 1.0
    # not positive definite: a breakdown, rcond 0
    assert _cholesky_rcond(np.array([[1.0, 2.0], [2.0, 1.0]])) == (None, 0.0)
    A = np.array([[2.0, 1.0], [1.0, 2.0]])
    factor, rcond = _cholesky_rcond(A)
    assert_allclose(
        rcond, 1.0 / (np.abs(A).sum(0).max() * np.abs(linalg.inv(A)).sum(0).max())
    )


def _design(rng, n, d, cond):
    U = np.linalg.qr(rng.normal(size=(n, d)))[0]
    V = np.linalg.qr(rng.normal(size=(d, d)))[0]
    return U @ np.diag(np.geomspace(1.0, 1.0 / cond, d)) @ V.T


@pytest.mark.parametrize(
    ("cond", "col_scale"),
    [(2.0, 10.0), (1e2, [1.0, 30.0, 0.1, 2.0]), (1e5, [1.0, 30.0, 0.1, 2.0])],
)
def test_triangular_reduction_is_exact_and_stable(cond, col_scale):
    # cond 2 and 1e2: the Cholesky path (of the column-scaled Gram matrix);
    # 1e5 squares to a Gram matrix whose factor loses ~1e-6 of the solution,
    # so the reduction must come from the QR.
    rng = np.random.default_rng(0)
    X = np.hstack([_design(rng, 200, 4, cond) * col_scale, np.zeros((200, 1))])
    Y = X[:, :4] @ rng.normal(size=(4, 2)) + 1e-3 * rng.normal(size=(200, 2))
    problem = _prepare_problem(X, Y, None, False)
    act = problem.active
    assert act.tolist() == [True] * 4 + [False]  # the zero column is inactive
    R, qty = _triangular_reduction(problem)
    Xa = X[:, act]
    assert_allclose(
        R.T @ R, Xa.T @ Xa, rtol=1e-10, atol=1e-10 * np.abs(Xa.T @ Xa).max()
    )
    assert_allclose(R.T @ qty, Xa.T @ Y, rtol=1e-9, atol=1e-10 * np.abs(Xa.T @ Y).max())
    ref = np.linalg.lstsq(Xa, Y, rcond=None)[0]
    sol = linalg.lstsq(R, qty)[0]
    assert np.abs(sol - ref).max() <= 1e-9 * np.abs(ref).max()


@pytest.mark.parametrize(
    ("solve", "path"), [(_solve_ridge_family, "cholesky"), (_solve_ridge_dual, "dual")]
)
def test_no_active_column_is_a_zero_solution(solve, path):
    X = np.full((10, 3), 2.0)  # constant columns: all absorbed by the intercept
    Y = np.random.default_rng(1).normal(size=(10, 2))
    problem = _prepare_problem(X, Y, None, True, gram=path == "cholesky")
    assert not problem.active.any()
    coef, cert, taken = solve(problem, 1.0)
    assert taken == path
    assert coef.shape == (3, 2) and not coef.any()
    assert cert.shape == (2,) and not cert.any()


def test_certificate_is_per_target():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    problem = _prepare_problem(X, Y, None, True)
    grad = np.array([[1e-3, 0.0], [2e-3, 1e-6], [0.0, 0.0]])
    coef = np.zeros((3, 2))
    cert = _certificate(problem, grad, coef, 0.0)
    full = _stationarity_residual(grad, coef, problem.col_norms, problem.y_norms)
    assert cert.shape == (2,)
    assert_allclose(cert, full.max(axis=0))
    assert cert[1] < cert[0]


def test_ridge_qr_with_a_zero_target_and_more_columns_than_rows():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 50))
    Y = np.column_stack([X @ rng.normal(size=50) + rng.normal(size=30), np.zeros(30)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        head = RidgeHead(5.0, solver="qr").fit(X, Y)
    assert head.solver_ == "qr"
    assert head.kkt_residual_ <= 1e-12  # the zero target too
    ref = Ridge(alpha=5.0).fit(X, Y)
    assert_allclose(head.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    assert not head.coef_[1].any()  # (n_targets, n_features)


def test_ridge_qr_refines_a_wide_offset_design_to_its_target():
    # More columns than rows and a large common offset: the SVD solution's
    # certificate is a few 1e-15, the refinement steps (through the full SVD
    # of R) bring it below REFINE_TARGET.
    from skwtsg.heads._constants import REFINE_TARGET
    from skwtsg.heads._solvers import _solve_ridge_qr

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 50)) @ np.diag(np.geomspace(1, 1e-6, 50))
    problem = _prepare_problem(X + 1e4, rng.normal(size=(30, 1)), None, True)
    coef, cert, path = _solve_ridge_qr(problem, 1e-3)
    assert path == "qr" and cert.max() <= REFINE_TARGET


@pytest.mark.parametrize(
    ("offset", "path"),
    # 3.2e7: the noise term is 0.7 of the smallest scaled singular value's
    # bound, just inside the documented rule (REDUCTION_NOISE_FACTOR × noise²)
    [(1e6, "cholesky"), (1e7, "cholesky"), (3.2e7, "cholesky"), (1e8, "qr")],
)
def test_triangular_reduction_leaves_the_gram_matrix_to_centring_noise(
    offset, path, monkeypatch
):
    # The same moderately conditioned design shifted by a growing mean: the
    # centring noise of the Gram matrix (~ eps * offset) grows until it is no
    # longer 100 times below the smallest scaled singular value, and then the
    # reduction must come from a QR of the data; before that, the cheaper
    # Cholesky of the Gram matrix is exact enough and must be taken.
    rng = np.random.default_rng(0)
    X = _design(rng, 1000, 4, 100) * np.sqrt(1000) + offset
    problem = _prepare_problem(X, rng.normal(size=(1000, 1)), None, True)
    calls = []
    qr_reduce = problem.qr_reduce

    def recording():
        calls.append(1)
        return qr_reduce()

    monkeypatch.setattr(problem, "qr_reduce", recording)
    R, qty = _triangular_reduction(problem)
    assert ("qr" if calls else "cholesky") == path
    assert R.shape == (4, 4) and qty.shape == (4, 1)
