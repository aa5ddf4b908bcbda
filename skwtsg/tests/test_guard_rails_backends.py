"""Guard rails on both backends (issue 30): every estimator entry point in
memory and on Dask.

On Dask (the synchronous scheduler: the same code a cluster runs, without its
start-up; ``skwtsg/tests/test_dask.py`` runs a real LocalCluster) a bad input
must give the error it gives in memory: same type, same first line. The
in-memory-only estimators (the search, the classifier) refuse Dask
collections with a TypeError that says so. The bad inputs are those of
``test_guard_rails.py`` plus the weights and targets issue 30 named.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

import skwtsg
from skwtsg.heads import LeastSquaresHead, RidgeHead
from skwtsg.model_selection import diagnostic_intervals
from skwtsg.tests.test_guard_rails import BAD_FIT_INPUTS, X, Y, _with

BACKENDS = ["memory", "dask"]
_MIXED = np.ones(40)
_MIXED[[3, 30]] = [-0.5, -2.0]  # issue 30: accepted on Dask, NaN coefficients

BOTH_BACKEND_FIT_INPUTS = {
    **{k: v for k, v in BAD_FIT_INPUTS.items() if k not in ("empty", "string X")},
    "mixed-sign weights": (lambda: (X, Y, _MIXED), "[Nn]egative"),
    "all-negative weights": (lambda: (X, Y, -np.ones(40)), "[Nn]egative"),
    "complex weights": (lambda: (X, Y, np.ones(40) + 1j), "[Cc]omplex"),
    "object weights": (lambda: (X, Y, np.full(40, "a", dtype=object)), "float"),
    "object y": (lambda: (X, np.full(40, "a", dtype=object), None), "float"),
    # Before: "Found array with 0 feature(s)", blaming features for y.
    "y without columns": (lambda: (X, np.zeros((40, 0)), None), "y has 0 columns"),
}


@pytest.fixture
def on_backend(request):
    """Converts arrays for the backend (20-row blocks on Dask)."""
    if request.param == "memory":
        yield lambda a: a
        return
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")

    def convert(a):
        if a is None:
            return None
        a = np.asarray(a)
        return da.from_array(a, chunks=(20,) + a.shape[1:])

    with dask.config.set(scheduler="synchronous"):
        yield convert


def _dask_ready_w2s(**kw):
    """A regressor the Dask path fits: a fitted (frozen) weak featurizer."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.random_projection import GaussianRandomProjection

    weak = FrozenEstimator(GaussianRandomProjection(2, random_state=0).fit(X))
    return skwtsg.WeakToStrongRegressor(weak, head=RidgeHead(), random_state=0, **kw)


def _first_line(exc):
    return str(exc).splitlines()[0]


@pytest.mark.parametrize("case", list(BOTH_BACKEND_FIT_INPUTS))
def test_fit_refuses_bad_input_alike_on_both_backends(case):
    pytest.importorskip("dask")
    import dask
    import dask.array as da

    make, match = BOTH_BACKEND_FIT_INPUTS[case]
    X_bad, y_bad, sw = make()
    if case == "y NaN everywhere":
        match = "labeled|NaN"
    with pytest.raises(ValueError, match=match) as mem:
        _dask_ready_w2s().fit(X_bad, y_bad, sample_weight=sw)
    lazy = [
        None if a is None else da.from_array(a, chunks=(20,) + np.shape(a)[1:])
        for a in (X_bad, y_bad, sw)
    ]
    with dask.config.set(scheduler="synchronous"):
        with pytest.raises(type(mem.value)) as on_dask:
            _dask_ready_w2s().fit(lazy[0], lazy[1], sample_weight=lazy[2])
    assert _first_line(on_dask.value) == _first_line(mem.value)


@pytest.mark.parametrize("on_backend", BACKENDS, indirect=True)
def test_predict_score_and_intervals_refuse_bad_input(on_backend):
    est = _dask_ready_w2s().fit(X, Y)
    for method in ("predict", "predict_weak"):
        assert np.all(np.isfinite(np.asarray(getattr(est, method)(on_backend(X)))))
        for bad in (_with(X, 0, np.nan), _with(X, 0, np.inf), X + 1j, X[:, :2]):
            with pytest.raises(ValueError):
                np.asarray(getattr(est, method)(on_backend(bad)))
    assert np.isfinite(est.score(on_backend(X), on_backend(Y)))
    for X_bad, y_bad, match in [
        (X, _with(Y, 0, np.inf), "NaN|infinity"),
        (X, Y + 1j, "[Cc]omplex"),
        (_with(X, 0, np.nan), Y, "NaN"),
    ]:
        with pytest.raises(ValueError, match=match):
            est.score(on_backend(X_bad), on_backend(y_bad))
        with pytest.raises(ValueError, match=match):
            diagnostic_intervals(
                est, on_backend(X_bad), on_backend(y_bad), n_resamples=99
            )
    with pytest.raises(ValueError, match="needs at least 40"):
        diagnostic_intervals(est, on_backend(X), on_backend(Y), n_resamples=39)


class _NaNHead(skwtsg.heads.LeastSquaresHead):
    """A user head gone wrong: fits, then predicts NaN."""

    def predict(self, X):
        return np.full(np.shape(X)[0], np.nan)


@pytest.mark.parametrize("on_backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("side", ["weak_head", "head"])
def test_a_head_predicting_nan_is_named(on_backend, side):
    # Before (issue 30): in memory a user head's NaN was blamed on a float64
    # overflow ("rescale the inputs"); on Dask on the featurizer ("returned
    # NaN or infinite features; fix the featurizer").
    from sklearn.frozen import FrozenEstimator

    width = 2 if side == "weak_head" else 3  # the weak or strong features
    frozen = FrozenEstimator(_NaNHead().fit(X[:, :width], Y))
    est = _dask_ready_w2s(weak_head=RidgeHead()).set_params(**{side: frozen})
    message = rf"`{side}` \(FrozenEstimator\(_NaNHead\)\) predicted NaN or infinite"
    with pytest.raises(ValueError, match=message):
        est.fit(on_backend(X), on_backend(Y))
    # and at predict time, on a model fitted with a good head
    fitted = _dask_ready_w2s().fit(X, Y)
    setattr(fitted, side + "_", frozen)
    method = "predict_weak" if side == "weak_head" else "predict"
    with pytest.raises(ValueError, match=message):
        np.asarray(getattr(fitted, method)(on_backend(X)))


@pytest.mark.parametrize("on_backend", BACKENDS, indirect=True)
def test_a_fixed_weak_model_fits_on_both_backends(on_backend):
    # Before: in memory, "Found array with 0 sample(s) ... required by
    # GaussianRandomProjection": a fixed weak model gets no weak rows, and
    # its frozen featurizer was asked to transform them.
    from sklearn.frozen import FrozenEstimator

    est = _dask_ready_w2s()
    weak_head = FrozenEstimator(RidgeHead().fit(est.weak_featurizer.transform(X), Y))
    est.set_params(weak_head=weak_head).fit(on_backend(X), on_backend(Y))
    assert np.isfinite(est.bound_) and est.weak_head_ is weak_head


@pytest.mark.parametrize("on_backend", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    "estimator",
    [
        skwtsg.WeakSupervisorSearch({"ridge": RidgeHead()}, random_state=0),
        skwtsg.WeakToStrongClassifier(random_state=0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_memory_only_estimators_on_both_backends(on_backend, estimator):
    """Fit, predict and score in memory; on Dask a TypeError saying so."""
    y = Y if isinstance(estimator, skwtsg.WeakSupervisorSearch) else Y > 0
    try:
        fitted = clone(estimator).fit(on_backend(X), on_backend(y))
    except TypeError as exc:
        assert on_backend(X) is not X  # only Dask is refused
        assert "does not accept Dask collections" in str(exc)
        return
    assert np.all(np.isfinite(fitted.predict(X).astype(float)))
    assert np.isfinite(fitted.score(X, y))
    for bad in (_with(X, 0, np.nan), X + 1j, X[:, :2]):
        with pytest.raises(ValueError):
            fitted.predict(bad)
    with pytest.raises(ValueError, match="[Nn]egative"):
        clone(estimator).fit(X, y, sample_weight=_MIXED)


@pytest.mark.parametrize("head", [LeastSquaresHead(), RidgeHead()], ids=repr)
def test_partial_fit_refuses_bad_input(head):
    head = clone(head).partial_fit(X[:20], Y[:20])
    for args, kw, match in [
        ((_with(X[20:], 0, np.nan), Y[20:]), {}, "NaN"),
        ((X[20:] + 1j, Y[20:]), {}, "[Cc]omplex"),
        ((X[20:], _with(Y[20:], 0, np.inf), {}), {}, "infinity"),
        ((X[20:, :2], Y[20:]), {}, "features"),
        ((X[20:], Y[20:]), {"sample_weight": _MIXED[20:] * 0 - 1}, "[Nn]egative"),
    ]:
        with pytest.raises(ValueError, match=match):
            head.partial_fit(*args[:2], **kw)
    before = head.coef_.copy()
    np.testing.assert_array_equal(head.coef_, before)  # nothing half-added
