"""The Dask path of WeakToStrongRegressor, on a real 2-process LocalCluster."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import pandas as pd  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.random_projection import GaussianRandomProjection  # noqa: E402

from skwtsg import WeakToStrongRegressor  # noqa: E402
from skwtsg._roles import ROLES, hash_role_codes  # noqa: E402
from skwtsg.heads import RidgeHead  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        memory_limit="1GiB",
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _data(n=2000, p=6, n_tasks=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 2.0, p) + 50.0
    coef = rng.normal(size=(p,) if n_tasks is None else (p, n_tasks))
    y = X @ coef + 0.5 * rng.normal(size=coef.shape[1:] and (n, n_tasks) or n)
    w = rng.uniform(0.5, 2.0, n)
    weak = FrozenEstimator(GaussianRandomProjection(3, random_state=0).fit(X[:50]))
    return X, y, w, weak


def _hash_roles(y, est, seed):
    labeled = ~np.isnan(np.asarray(y, dtype=float).reshape(len(y), -1)).all(axis=1)
    codes = hash_role_codes(
        np.arange(len(y)),
        labeled,
        eval_size=est.eval_size,
        strong_size=est.strong_size,
        any_unlabeled=not labeled.all(),
        seed=seed,
    )
    return np.asarray(ROLES)[codes]


def _assert_same_fit(lazy, mem):
    np.testing.assert_allclose(lazy.head_.coef_, mem.head_.coef_, rtol=1e-10, atol=0)
    np.testing.assert_allclose(lazy.head_.intercept_, mem.head_.intercept_, rtol=1e-10)
    np.testing.assert_allclose(
        lazy.weak_head_.coef_, mem.weak_head_.coef_, rtol=1e-10, atol=0
    )
    for name in ("weak_error_", "strong_error_", "misfit_", "gain_", "bound_"):
        np.testing.assert_allclose(
            getattr(lazy, name), getattr(mem, name), rtol=1e-9, atol=1e-12
        )
    assert lazy.diagnostic_rows_ == mem.diagnostic_rows_
    for key, value in mem.train_report_.items():
        np.testing.assert_allclose(
            lazy.train_report_[key], value, rtol=1e-9, atol=1e-12
        )
    assert lazy.head_.kkt_residual_ <= 1e-8


@pytest.mark.parametrize("chunks", [2000, 500, (300, 1200, 1, 499)])
def test_dask_array_fit_matches_in_memory_fit(client, chunks):
    X, y, w, weak = _data()
    est = WeakToStrongRegressor(weak, head=RidgeHead(alpha=1.0), random_state=7)
    Xd = da.from_array(X, chunks=(chunks, -1))
    lazy = est.fit(Xd, da.from_array(y, chunks=(chunks,)), sample_weight=w)
    mem = WeakToStrongRegressor(weak, head=RidgeHead(alpha=1.0), random_state=7).fit(
        X, y, sample_weight=w, roles=_hash_roles(y, est, 7)
    )
    _assert_same_fit(lazy, mem)
    np.testing.assert_array_equal(lazy.roles_.compute(), mem.roles_)
    assert lazy.n_features_in_ == 6

    pred = lazy.predict(Xd)
    assert isinstance(pred, da.Array)  # lazy
    np.testing.assert_allclose(pred.compute(), mem.predict(X), rtol=1e-10)
    np.testing.assert_allclose(
        lazy.predict_weak(Xd).compute(), mem.predict_weak(X), rtol=1e-10
    )
    assert lazy.score(Xd, y, sample_weight=w) == pytest.approx(
        mem.score(X, y, sample_weight=w), rel=1e-10
    )


def test_roles_and_coefficients_do_not_depend_on_partitioning(client):
    X, y, _, weak = _data(seed=1)
    fits = [
        WeakToStrongRegressor(weak, random_state=3).fit(
            da.from_array(X, chunks=(c, -1)), da.from_array(y, chunks=c)
        )
        for c in (2000, 333)
    ]
    np.testing.assert_array_equal(fits[0].roles_.compute(), fits[1].roles_.compute())
    np.testing.assert_allclose(fits[0].head_.coef_, fits[1].head_.coef_, rtol=1e-10)
    other = WeakToStrongRegressor(weak, random_state=4).fit(
        da.from_array(X, chunks=(500, -1)), da.from_array(y, chunks=500)
    )
    assert not np.array_equal(other.roles_.compute(), fits[0].roles_.compute())


@pytest.mark.parametrize("eval_size", [0.25, 0.0])
def test_unlabeled_rows_and_multioutput(client, eval_size):
    X, y, _, weak = _data(n_tasks=2, seed=2)
    y[::3] = np.nan  # unlabeled rows: the strong model's rows
    est = WeakToStrongRegressor(weak, eval_size=eval_size, random_state=0)
    lazy = est.fit(da.from_array(X, chunks=(400, -1)), da.from_array(y, chunks=400))
    mem = WeakToStrongRegressor(weak, eval_size=eval_size).fit(
        X, y, roles=_hash_roles(y, est, 0)
    )
    _assert_same_fit(lazy, mem)
    assert lazy.head_.coef_.shape == (2, 6)
    assert set(lazy.roles_[::3].compute()) == {"strong"}
    pred = lazy.predict(da.from_array(X, chunks=(400, -1)))
    assert pred.shape == (2000, 2)


def test_dask_dataframe_input(client):
    X, y, w, _ = _data(seed=3)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)])
    weak = FrozenEstimator(
        GaussianRandomProjection(2, random_state=0).fit(frame.iloc[:50])
    )
    est = WeakToStrongRegressor(weak, strong_size="reuse", random_state=5)
    ddf = dd.from_pandas(frame, npartitions=3)
    lazy = est.fit(ddf, dd.from_pandas(pd.Series(y), npartitions=3), sample_weight=w)
    mem = WeakToStrongRegressor(weak, strong_size="reuse").fit(
        frame, y, sample_weight=w, roles=_hash_roles(y, est, 5)
    )
    _assert_same_fit(lazy, mem)
    assert list(lazy.feature_names_in_) == list(frame.columns)
    np.testing.assert_allclose(lazy.predict(ddf).compute(), mem.predict(frame))


def test_refusals():
    X, y, _, weak = _data(n=200)
    Xd, yd = da.from_array(X, chunks=(50, -1)), da.from_array(y, chunks=50)
    with pytest.raises(TypeError, match="FrozenEstimator"):
        WeakToStrongRegressor(PCA(2)).fit(Xd, yd)
    with pytest.raises(TypeError, match="partial_fit"):
        WeakToStrongRegressor(weak, head=LinearRegression()).fit(Xd, yd)
    with pytest.raises(ValueError, match="eval_size=10 is a count"):
        WeakToStrongRegressor(weak, eval_size=10).fit(Xd, yd)
    with pytest.raises(ValueError, match="`roles` cannot be passed"):
        WeakToStrongRegressor(weak).fit(Xd, yd, roles=np.full(200, "both"))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        WeakToStrongRegressor(weak).fit(Xd, y[:-1])
    fitted = WeakToStrongRegressor(weak, random_state=0).fit(Xd, yd)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(da.from_array(X[:, :5], chunks=(50, -1)))


def _warning_messages(record):
    return sorted(str(w.message).split(":")[0] for w in record)


def test_warnings_are_those_of_the_in_memory_path(client):
    X, y, _, weak = _data(seed=4)
    Xd, yd = da.from_array(X, chunks=(500, -1)), da.from_array(y, chunks=500)
    # the weak projection lies in the strong (passthrough) span: copied labels
    est = WeakToStrongRegressor(weak, random_state=0)
    with pytest.warns(UserWarning, match="reproduces its weak labels") as lazy:
        est.fit(Xd, yd)
    with pytest.warns(UserWarning, match="reproduces its weak labels") as mem:
        WeakToStrongRegressor(weak).fit(X, y, roles=_hash_roles(y, est, 0))
    assert _warning_messages(lazy) == _warning_messages(mem)
    # an exact weak model, a one-dimensional strong one: bound_ < 0
    strong = FrozenEstimator(GaussianRandomProjection(1, random_state=0).fit(X[:50]))
    est = WeakToStrongRegressor("passthrough", strong, random_state=0)
    with pytest.warns(UserWarning, match="bound_ is negative") as lazy:
        est.fit(Xd, yd)
    assert est.bound_ < 0
    with pytest.warns(UserWarning, match="bound_ is negative") as mem:
        WeakToStrongRegressor("passthrough", strong).fit(
            X, y, roles=_hash_roles(y, est, 0)
        )
    assert _warning_messages(lazy) == _warning_messages(mem)


def test_diagnostic_intervals_on_dask_inputs(client):
    from skwtsg.model_selection import diagnostic_intervals

    X, y, w, weak = _data(n=20000, seed=5)
    strong = FrozenEstimator(GaussianRandomProjection(4, random_state=1).fit(X[:50]))
    est = WeakToStrongRegressor(weak, strong, random_state=0).fit(X[:2000], y[:2000])
    X_eval, y_eval, w_eval = X[2000:], y[2000:], w[2000:]
    kw = dict(n_resamples=2000, method="percentile", random_state=0)
    mem = diagnostic_intervals(est, X_eval, y_eval, sample_weight=w_eval, **kw)
    reports = [
        diagnostic_intervals(
            est,
            da.from_array(X_eval, chunks=(c, -1)),
            da.from_array(y_eval, chunks=c),
            sample_weight=w_eval,
            **kw,
        )
        for c in (18000, 2500)
    ]
    assert reports[0].keys() == mem.keys()
    for name in ("weak_error", "strong_error", "misfit", "gain", "bound"):
        # exact point values; the grouped bootstrap is close to the rows' one
        assert reports[0][name] == pytest.approx(mem[name], rel=1e-10)
        low, high = mem[name + "_ci"]
        np.testing.assert_allclose(
            reports[0][name + "_ci"], (low, high), atol=0.1 * (high - low)
        )
        # and does not depend on the partitioning
        np.testing.assert_allclose(
            reports[1][name + "_ci"], reports[0][name + "_ci"], rtol=1e-10
        )
    alone = diagnostic_intervals(est, da.from_array(X_eval, chunks=(5000, -1)), **kw)
    assert sorted(alone) == ["misfit", "misfit_ci"]
    assert alone["misfit"] == pytest.approx(
        diagnostic_intervals(est, X_eval, **kw)["misfit"], rel=1e-10
    )
    y_bad = y_eval.copy()
    y_bad[0] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        diagnostic_intervals(est, da.from_array(X_eval, chunks=(5000, -1)), y_bad, **kw)
