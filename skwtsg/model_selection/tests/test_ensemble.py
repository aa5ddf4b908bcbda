"""Mixtures of weak supervisors: WeakSupervisorSearch(combine=...)."""

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeRegressor

from skwtsg import WeakSupervisorSearch, bound_scorer
from skwtsg._diagnostics import DIAGNOSTICS
from skwtsg.heads import (
    LeastSquaresHead,
    NonNegativeLeastSquaresHead,
    RidgeHead,
    RidgeLOOHead,
)
from skwtsg.model_selection import diagnostic_intervals
from skwtsg.model_selection._ensemble import (
    MAX_EXACT_SUPERVISORS,
    minimize_on_simplex,
)

BETA = np.array([1.0, -2.0, 0.5])

# Mixtures and supervisors in the strong span have bounds near 0, negative
# by sampling error: the search warns about them, which is not tested here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*bound_ is negative", "ignore:.*reproduces its weak labels"
)


class _Erring(RegressorMixin, BaseEstimator):
    """The truth ``X[:, :3] @ BETA`` plus a fixed error, a weak supervisor."""

    def __init__(self, error=None):
        self.error = error

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return X[:, :3] @ BETA + self.error(X)


class _Mixture(RegressorMixin, BaseEstimator):
    """``sum_k w_k f_k`` of fitted weak models (one weight row per output)."""

    def __init__(self, models=None, weights=None):
        self.models = models
        self.weights = weights

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        outs = np.stack(
            [np.asarray(m.predict(X)).reshape(len(X), -1) for m in self.models], -1
        )
        mixed = np.einsum("nmk,mk->nm", outs, np.atleast_2d(self.weights))
        return mixed.ravel() if np.ndim(self.weights) == 1 else mixed


def _strong_features(X):
    return X[:, :3]


# Errors in different directions: each has a part inside the strong span
# (columns 0-2: the strong model inherits it) and a part outside it (the
# strong model cannot follow it: the misfit). The parts inside cancel in a
# mixture, those outside are discarded by the strong model.
ERRORS = {
    "a": lambda X: 0.8 * X[:, 0] + np.sin(2 * X[:, 3]),
    "b": lambda X: -0.8 * X[:, 0] + 0.6 * X[:, 1] + np.abs(X[:, 4]) - 0.8,
    "c": lambda X: -0.7 * X[:, 1] + np.cos(X[:, 5]) ** 2 - 0.6,
}


def _problem(n=3000, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6))
    y = X[:, :3] @ BETA
    supervisors = {k: FrozenEstimator(_Erring(e)) for k, e in ERRORS.items()}
    return X, y, supervisors


def _search(supervisors, **params):
    return WeakSupervisorSearch(
        supervisors,
        FunctionTransformer(_strong_features),
        random_state=0,
        **{"combine": "bound", **params},
    )


def _slsqp_on_simplex(Q, seed=0, n_random=30):
    """An independent solution: SLSQP from every vertex, the centre and more."""
    K = len(Q)
    rng = np.random.RandomState(seed)
    starts = [*np.eye(K), np.full(K, 1 / K), *rng.dirichlet(np.ones(K), n_random)]
    best = None
    for w0 in starts:
        res = minimize(
            lambda w: w @ Q @ w,
            w0,
            jac=lambda w: 2 * Q @ w,
            method="SLSQP",
            bounds=[(0, 1)] * K,
            constraints=[
                {
                    "type": "eq",
                    "fun": lambda w: w.sum() - 1,
                    "jac": lambda w: np.ones(K),
                }
            ],
            options={"ftol": 1e-16, "maxiter": 1000},
        )
        # back onto the simplex (SLSQP meets the constraint to about 1e-10)
        w = np.clip(res.x, 0, None) / np.clip(res.x, 0, None).sum()
        if best is None or w @ Q @ w < best[1]:
            best = w, w @ Q @ w
    return best


def test_known_answer_matches_an_independent_qp_solution():
    X, y, supervisors = _problem()
    search = _search(supervisors).fit(X, y)

    # Independently: least squares with an intercept on the strong rows,
    # each supervisor's labels; the forms from the eval rows' residuals.
    strong, ev = search.roles_ == "strong", search.roles_ == "eval"
    design = np.column_stack([np.ones(len(X)), X[:, :3]])
    weak = np.column_stack([m.predict(X) for m in supervisors.values()])
    coef = np.linalg.lstsq(design[strong], weak[strong], rcond=None)[0]
    s = design @ coef
    r_weak, r_strong = weak[ev] - y[ev, None], s[ev] - y[ev, None]
    A = r_weak.T @ r_weak / ev.sum()
    B = (s[ev] - weak[ev]).T @ (s[ev] - weak[ev]) / ev.sum()
    C = r_strong.T @ r_strong / ev.sum()
    w, value = _slsqp_on_simplex(A - B)

    np.testing.assert_allclose(search.weights_, w, rtol=0, atol=1e-8)
    assert search.qp_certificate_["value"] == pytest.approx(value, abs=1e-10)
    assert search.qp_certificate_["kkt_residual"] < 1e-12
    assert search.qp_certificate_["vertex_gap"] > 0
    # the weights are interior: every supervisor contributes
    assert (search.weights_ > 0.2).all()
    mixture_error = np.mean((search.predict(X[ev]) - y[ev]) ** 2)
    assert mixture_error == pytest.approx(w @ C @ w, rel=1e-8)
    assert search.mixture_report_["strong_error"] == pytest.approx(mixture_error)
    assert mixture_error < search.results_["strong_error"].min()
    # and it is the strong model trained on the mixture's labels
    labels = weak[strong] @ search.weights_
    direct = np.linalg.lstsq(design[strong], labels, rcond=None)[0]
    np.testing.assert_allclose(search.predict(X[ev]), design[ev] @ direct, atol=1e-10)


@pytest.mark.parametrize(
    "head, weighted",
    [(None, False), (RidgeHead(alpha=50.0), False), ("loo", False), (None, True)],
)
def test_mixture_is_the_search_of_the_mixed_supervisor(head, weighted):
    X, y, supervisors = _problem(n=1200, seed=1)
    if head == "loo":
        head = RidgeLOOHead(alphas=[30.0])
    weights = np.random.RandomState(5).uniform(0.2, 3.0, len(y)) if weighted else None
    search = _search(supervisors, head=head).fit(X, y, sample_weight=weights)
    mixed = FrozenEstimator(_Mixture(list(supervisors.values()), search.weights_))
    single = _search({"mix": mixed}, head=head, combine=None)
    single.fit(X, y, sample_weight=weights)  # frozen supervisors: the same roles
    np.testing.assert_array_equal(single.roles_, search.roles_)
    for name in DIAGNOSTICS:
        assert search.mixture_report_[name] == pytest.approx(
            single.reports_["mix"][name], rel=1e-9, abs=1e-12
        )
        form = search.mixture_forms_[name]
        assert search.weights_ @ form @ search.weights_ == pytest.approx(
            search.mixture_report_[name], rel=1e-9, abs=1e-12
        )
    np.testing.assert_allclose(search.predict(X), single.predict(X), atol=1e-10)
    np.testing.assert_allclose(search.predict_weak(X), mixed.predict(X), atol=1e-12)


def test_fitted_weak_supervisors_and_two_outputs():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(900, 4))
    Y = np.column_stack([X @ [1.0, 2.0, 0.0, -1.0], np.sin(X[:, 0]) + X[:, 3]])
    # weak models that fit each output on its own (not a multi-output tree)
    supervisors = {
        "knn5": KNeighborsRegressor(5),
        "knn50": KNeighborsRegressor(50),
        "ridge": Ridge(alpha=1.0),
        "signs": (FunctionTransformer(np.sign), None),
    }
    params = dict(head=RidgeHead(alpha=1.0), random_state=0, combine="bound")
    search = WeakSupervisorSearch(supervisors, **params).fit(X, Y)
    assert search.weights_.shape == (2, 4)
    np.testing.assert_allclose(search.weights_.sum(axis=1), 1.0)
    assert np.shape(search.mixture_report_["bound"]) == (2,)
    assert np.shape(search.qp_certificate_["kkt_residual"]) == (2,)
    # each output is its own problem
    for j in range(2):
        one = WeakSupervisorSearch(supervisors, **params).fit(X, Y[:, j])
        np.testing.assert_allclose(one.weights_, search.weights_[j], atol=1e-10)
        assert one.mixture_report_["bound"] == pytest.approx(
            search.mixture_report_["bound"][j]
        )
    bounds = np.array([r["bound"] for r in search.reports_.values()])
    assert (search.mixture_report_["bound"] <= bounds.min(axis=0) + 1e-12).all()
    assert search.predict(X).shape == Y.shape
    assert search.predict_weak(X).shape == Y.shape
    low, high = search.mixture_intervals_["bound_ci"]
    assert np.all(low <= search.mixture_report_["bound"])
    assert np.all(search.mixture_report_["bound"] <= high)


@pytest.mark.parametrize("unlabeled_strong", [False, True])
def test_forms_follow_the_diagnostic_rows_without_eval_rows(unlabeled_strong):
    X, y, _ = _problem(n=800, seed=3)
    y = y.copy()
    roles = np.where(np.arange(len(y)) % 2, "strong", "weak")
    if unlabeled_strong:
        y[roles == "strong"] = np.nan
    supervisors = {
        "tree": DecisionTreeRegressor(max_depth=2, random_state=0),
        "ridge": Ridge(alpha=1.0),
        "signs": (FunctionTransformer(np.sign), None),
    }
    search = _search(supervisors).fit(X, y, roles=roles)
    expected = "weak+strong" if unlabeled_strong else "strong"
    assert search.diagnostic_rows_["bound"] == expected
    assert search.mixture_diagnostic_rows_ == search.diagnostic_rows_
    assert search.mixture_intervals_ is None
    for name in DIAGNOSTICS:
        value = search.weights_ @ search.mixture_forms_[name] @ search.weights_
        if np.isnan(search.mixture_report_[name]):
            assert np.isnan(value)
        else:
            assert value == pytest.approx(search.mixture_report_[name], rel=1e-9)


def test_uniform_weights_and_no_combine():
    X, y, supervisors = _problem(n=600)
    uniform = _search(supervisors, combine="uniform", confidence_level=None).fit(X, y)
    np.testing.assert_allclose(uniform.weights_, 1 / 3)
    assert uniform.qp_certificate_ is None
    assert uniform.mixture_intervals_ is None
    plain = _search(supervisors, combine=None).fit(X, y)
    assert not hasattr(plain, "weights_")
    # refitted without combine: no stale mixture, predict is the best's again
    refit = uniform.set_params(combine=None).fit(X, y)
    assert not hasattr(refit, "weights_") and not hasattr(refit, "mixture_report_")
    np.testing.assert_allclose(refit.predict(X), plain.predict(X))
    best = supervisors[plain.best_]
    np.testing.assert_allclose(plain.predict_weak(X), best.predict(X))


def test_grid_search_pipeline_and_clone():
    X, y, supervisors = _problem(n=900, seed=4)
    search = _search(supervisors, head=RidgeHead(alpha=1.0), confidence_level=None)
    assert clone(search).get_params()["combine"] == "bound"
    # a scaler of standard normal columns: nearly the identity for the frozen
    # supervisors, a Pipeline all the same
    pipe = make_pipeline(StandardScaler(), search)
    # bound_scorer: minus the bound of predict_weak and predict on each test fold
    grid = GridSearchCV(
        pipe,
        {"weaksupervisorsearch__combine": [None, "uniform", "bound"]},
        scoring=bound_scorer,
        cv=3,
        error_score="raise",
    ).fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    assert grid.best_params_["weaksupervisorsearch__combine"] == "bound"
    fitted = grid.best_estimator_
    report = diagnostic_intervals(
        fitted, X[:300], y[:300], n_resamples=199, random_state=0
    )
    assert report["bound"] == pytest.approx(-bound_scorer(fitted, X[:300], y[:300]))


@pytest.mark.parametrize(
    "head, match",
    [
        (NonNegativeLeastSquaresHead(), "NonNegativeLeastSquaresHead"),
        (RidgeLOOHead(), "several alphas"),
        (Ridge(alpha=1.0), "got Ridge"),
        (FrozenEstimator(LeastSquaresHead()), "got FrozenEstimator"),
    ],
)
def test_unsupported_head_is_a_clear_error(head, match):
    X, y, supervisors = _problem(n=200)
    with pytest.raises(ValueError, match="linear in its labels") as info:
        _search(supervisors, head=head).fit(X, y)
    assert match in str(info.value)
    assert "LeastSquaresHead, RidgeHead, or RidgeLOOHead" in str(info.value)
    # without combine the same head is accepted (where it is otherwise)
    if not isinstance(head, FrozenEstimator):
        _search(supervisors, head=head, combine=None).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"combine": "best"}, "'combine' parameter"),
        ({"combine": True}, "'combine' parameter"),
        ({"confidence_level": 1.5}, "'confidence_level' parameter"),
    ],
)
def test_bad_parameters(params, match):
    X, y, supervisors = _problem(n=200)
    with pytest.raises(ValueError, match=match):
        _search(supervisors, **params).fit(X, y)


def test_too_many_supervisors_for_the_exact_programme():
    X, y, _ = _problem(n=200)
    many = {
        f"s{i}": FrozenEstimator(_Erring(lambda X, i=i: i * X[:, 3]))
        for i in range(MAX_EXACT_SUPERVISORS + 1)
    }
    with pytest.raises(ValueError, match="at most 16 weak supervisors"):
        _search(many).fit(X, y)
    _search(many, combine="uniform", confidence_level=None).fit(X, y)


@pytest.mark.parametrize("seed", range(8))
def test_simplex_minimum_of_indefinite_forms(seed):
    rng = np.random.RandomState(seed)
    K = 5
    M = rng.normal(size=(K, K))
    Q = M + M.T + (2 * np.eye(K) if seed % 2 else 0)
    w, cert = minimize_on_simplex(Q)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0)
    assert cert["value"] == pytest.approx(w @ Q @ w)
    assert cert["kkt_residual"] < 1e-12
    assert cert["vertex_gap"] >= -1e-12
    assert cert["n_faces"] == 2**K - 1
    _, value = _slsqp_on_simplex(Q, seed=seed)
    assert cert["value"] <= value + 1e-10
    # a dense sample of the simplex finds nothing lower
    grid = rng.dirichlet(np.full(K, 0.3), 20000)
    assert cert["value"] <= np.einsum("pi,ij,pj->p", grid, Q, grid).min() + 1e-12
    # batched: the same problems at once
    W, certs = minimize_on_simplex(np.stack([Q, 3 * Q]))
    np.testing.assert_allclose(W, [w, w], atol=1e-12)
    np.testing.assert_allclose(certs["value"], [cert["value"], 3 * cert["value"]])


def test_simplex_minimum_degenerate_forms():
    # all equal (identical supervisors): the first vertex, the smallest support
    w, cert = minimize_on_simplex(np.ones((3, 3)))
    assert w.tolist() == [1.0, 0.0, 0.0]
    assert cert["convex"]
    w, cert = minimize_on_simplex(np.zeros((2, 2)))
    assert w.tolist() == [1.0, 0.0]
    # two duplicated supervisors and a third that cancels them
    Q = np.array([[1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]])
    w, cert = minimize_on_simplex(Q)
    assert w.tolist() == [0.5, 0.0, 0.5]
    assert cert["value"] == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="square"):
        minimize_on_simplex(np.ones((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        minimize_on_simplex(np.full((2, 2), np.nan))


def test_mixture_intervals_use_the_search_n_resamples():
    """The mixture's intervals are drawn with the search's ``n_resamples``
    (equal to the report's on the same rows), not a fixed 9999."""
    from skwtsg.metrics import weak_to_strong_report

    X, y, supervisors = _problem(n=600)
    search = _search(supervisors, n_resamples=50, confidence_level=0.9)
    search.fit(X, y)
    assert set(search.mixture_diagnostic_rows_.values()) == {"eval"}
    eval_rows = np.flatnonzero(search.roles_ == "eval")
    expected = weak_to_strong_report(
        y[eval_rows],
        search.predict_weak(X[eval_rows]),
        search.predict(X[eval_rows]),
        confidence_level=0.9,
        n_resamples=50,
        random_state=np.random.RandomState(0),
    )
    for name, value in search.mixture_intervals_.items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-10)
