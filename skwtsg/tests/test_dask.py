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
    # the advice is a head the Dask fit takes (a fitted tree, frozen)
    advice = [str(w.message) for w in lazy if "reproduces" in str(w.message)]
    assert "weak_head=FrozenEstimator(DecisionTreeRegressor" in advice[0]
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


# ------------------------------------------------------- the one-pass fit
def _assert_same_record(lazy, mem, rtol=1e-10):
    """The Diagnostics records agree: counts, weights and every loss sum."""
    a, b = lazy.diagnostics_, mem.diagnostics_
    np.testing.assert_array_equal(a.count, b.count)
    np.testing.assert_array_equal(a.labeled_count, b.labeled_count)
    np.testing.assert_allclose(a.weight, b.weight, rtol=1e-12)
    np.testing.assert_allclose(a.labeled_weight, b.labeled_weight, rtol=1e-12)
    assert a.ndim == b.ndim and a.sums.keys() == b.sums.keys()
    for name, sums in b.sums.items():
        assert a.sums[name].shape == sums.shape
        np.testing.assert_array_equal(np.isnan(a.sums[name]), np.isnan(sums))
        np.testing.assert_allclose(a.sums[name], sums, rtol=rtol, atol=0)


def _strong_data(n=3000, n_tasks=None, seed=0):
    """Weak and strong projections of different spans: no copy, gain != 0."""
    X, y, w, _ = _data(n=n, p=8, n_tasks=n_tasks, seed=seed)
    weak = FrozenEstimator(GaussianRandomProjection(3, random_state=1).fit(X[:50]))
    strong = FrozenEstimator(GaussianRandomProjection(5, random_state=2).fit(X[:50]))
    return X, y, w, weak, strong


CASES = {
    "weighted": dict(weights=True),
    "unlabeled": dict(unlabeled=True),
    "unlabeled, no eval rows": dict(unlabeled=True, eval_size=0.0),
    "no eval rows": dict(eval_size=0.0, weights=True),
    "reuse": dict(strong_size="reuse", weights=True),
    "reuse, no eval rows": dict(strong_size="reuse", eval_size=0.0),
    "multi-output, weighted, unlabeled": dict(n_tasks=3, weights=True, unlabeled=True),
    "ridge, no intercept": dict(
        head=RidgeHead(alpha=3.0, fit_intercept=False), weights=True
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_one_pass_fit_equals_in_memory_fit(client, case):
    """Coefficients, every diagnostic per output and the record, to 1e-10."""
    spec = dict(CASES[case])
    X, y, w, weak, strong = _strong_data(n_tasks=spec.pop("n_tasks", None))
    if spec.pop("unlabeled", False):
        y[1::4] = np.nan
    weights = w if spec.pop("weights", False) else None
    params = dict(head=spec.pop("head", None), random_state=11, **spec)
    est = WeakToStrongRegressor(weak, strong, **params)
    Xd = da.from_array(X, chunks=(700, -1))
    yd = da.from_array(y, chunks=(700,) + y.shape[1:])
    lazy = est.fit(Xd, yd, sample_weight=weights)
    mem = WeakToStrongRegressor(weak, strong, **params).fit(
        X, y, sample_weight=weights, roles=_hash_roles(y, est, 11)
    )
    _assert_same_fit(lazy, mem)
    for name in ("weak_error_", "strong_error_", "misfit_", "gain_", "bound_"):
        np.testing.assert_allclose(getattr(lazy, name), getattr(mem, name), rtol=1e-10)
        assert np.shape(getattr(lazy, name)) == np.shape(getattr(mem, name))
    _assert_same_record(lazy, mem)
    np.testing.assert_array_equal(lazy.roles_.compute(), mem.roles_)
    assert lazy.diagnostic_rows_ == mem.diagnostic_rows_


def test_frozen_weak_model_in_the_same_pass(client):
    """A fitted non-linear weak model: its labels are made in the pass."""
    from sklearn.tree import DecisionTreeRegressor

    X, y, w, _, strong = _strong_data(seed=3)
    tree = FrozenEstimator(DecisionTreeRegressor(max_depth=3).fit(X[:300], y[:300]))
    est = WeakToStrongRegressor(
        weak_head=tree, strong_featurizer=strong, random_state=2
    )
    lazy = est.fit(
        da.from_array(X, chunks=(500, -1)),
        da.from_array(y, chunks=500),
        sample_weight=w,
    )
    mem = WeakToStrongRegressor(
        weak_head=tree, strong_featurizer=strong, random_state=2
    ).fit(X, y, sample_weight=w, roles=_hash_roles(y, est, 2))
    assert lazy.weak_head_ is tree
    np.testing.assert_allclose(lazy.head_.coef_, mem.head_.coef_, rtol=1e-10)
    for name in ("weak_error_", "strong_error_", "misfit_", "gain_", "bound_"):
        np.testing.assert_allclose(getattr(lazy, name), getattr(mem, name), rtol=1e-10)
    _assert_same_record(lazy, mem)
    assert lazy.predict_weak(da.from_array(X, chunks=(500, -1))).compute() == (
        pytest.approx(tree.predict(X))
    )


# ---------------------------------------------------------- one read of X
_MADE = []


def _make_block(i, n_rows):
    _MADE.append(i)
    rng = np.random.default_rng([4, i])
    X = rng.normal(size=(n_rows, 5)) + 10.0
    return np.hstack([X, (X @ np.arange(1.0, 6.0) + rng.normal(size=n_rows))[:, None]])


_TRANSFORMED = {"weak": [], "strong": []}


def _counting(side):
    def transform(X):
        _TRANSFORMED[side].append(len(X))
        return np.asarray(X)[:, :3] * (1.0 if side == "weak" else 2.0) + np.asarray(X)[
            :, 3:4
        ] ** (2 if side == "strong" else 1)

    return transform


def test_the_fit_reads_every_block_once():
    """Each block is made once and featurized once by each featurizer.

    Block 0 is made once more, alone, for the first rows (the featurizers
    are fitted on them and they are the reference row of the moments).
    """
    import dask
    from sklearn.preprocessing import FunctionTransformer

    n_blocks, n_rows = 6, 400
    Xy = da.concatenate(
        [
            da.from_delayed(
                dask.delayed(_make_block, pure=False)(i, n_rows),
                (n_rows, 6),
                dtype=float,
            )
            for i in range(n_blocks)
        ]
    )
    X, y = Xy[:, :5], Xy[:, 5]
    est = WeakToStrongRegressor(
        FunctionTransformer(_counting("weak")),
        FunctionTransformer(_counting("strong")),
        random_state=0,
    )
    _MADE.clear()
    for calls in _TRANSFORMED.values():
        calls.clear()
    with dask.config.set(scheduler="synchronous"):
        est.fit(X, y)
    assert sorted(_MADE) == [0] + list(range(n_blocks))
    # the first row on the client, then each block once (the strong side
    # only on the rows that need strong features: not the weak-only rows)
    weak_calls, strong_calls = _TRANSFORMED["weak"], _TRANSFORMED["strong"]
    assert weak_calls[0] == 1 and strong_calls[0] == 1
    assert weak_calls[1:] == [n_rows] * n_blocks
    assert len(strong_calls[1:]) == n_blocks
    n_weak_only = int((est.roles_.compute() == "weak").sum())
    assert sum(strong_calls[1:]) == n_blocks * n_rows - n_weak_only


def test_dataframe_without_known_lengths_is_read_once(client):
    """Partition lengths counted in the pass, y as an aligned Series or NumPy."""
    X, y, w, weak, strong = _strong_data(seed=5)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    weak = FrozenEstimator(
        GaussianRandomProjection(3, random_state=1).fit(frame.iloc[:50])
    )
    strong = FrozenEstimator(
        GaussianRandomProjection(5, random_state=2).fit(frame.iloc[:50])
    )
    # an identity map_partitions: dask no longer knows the lengths
    ddf = dd.from_pandas(frame, npartitions=4).map_partitions(lambda d: d)
    series = dd.from_pandas(pd.Series(y), npartitions=4).map_partitions(lambda s: s)
    mem = WeakToStrongRegressor(weak, strong).fit(
        frame, y, sample_weight=w, roles=_hash_roles(y, WeakToStrongRegressor(), 1)
    )
    for target in (series, y):
        lazy = WeakToStrongRegressor(weak, strong, random_state=1).fit(
            ddf, target, sample_weight=w
        )
        _assert_same_fit(lazy, mem)
        _assert_same_record(lazy, mem)
        np.testing.assert_array_equal(lazy.roles_.compute(), mem.roles_)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        WeakToStrongRegressor(weak, strong, random_state=1).fit(ddf, np.r_[y, 1.0])


# ------------------------------------------------------------- validation
def _bad_inputs():
    X, y, w, _ = _data(n=400, p=4, seed=6)
    nan_X, inf_X = X.copy(), X.copy()
    nan_X[7, 1], inf_X[300, 2] = np.nan, np.inf
    neg_w, zero_w = w.copy(), np.zeros_like(w)
    neg_w[250] = -1.0
    inf_y = y.copy()
    inf_y[123] = np.inf
    return (
        X,
        y,
        w,
        {
            "negative weight": dict(sample_weight=neg_w),
            "all-zero weights": dict(sample_weight=zero_w),
            "NaN weight": dict(sample_weight=np.where(np.arange(400) == 5, np.nan, w)),
            "complex weights": dict(sample_weight=w + 1j),
            "object weights": dict(sample_weight=np.array(["a"] * 400, dtype=object)),
            "2-D weights": dict(sample_weight=w[:, None]),
            "complex y": dict(y=y + 1j),
            "object y": dict(y=np.array(["a"] * 400, dtype=object)),
            "infinite y": dict(y=inf_y),
            "NaN in X": dict(X=nan_X),
            "infinity in X": dict(X=inf_X),
            "complex X": dict(X=X + 1j),
        },
    )


_X, _Y, _W, BAD = _bad_inputs()


def _as_dask(value, chunks=100):
    if value.ndim == 2 and value.shape[1] > 1:
        return da.from_array(value, chunks=(chunks, -1))
    return da.from_array(value, chunks=(chunks,) + value.shape[1:])


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_inputs_raise_as_in_memory(client, case):
    """The Dask fit refuses what memory refuses, with the same error."""
    inputs = dict(X=_X, y=_Y, sample_weight=None)
    inputs.update(BAD[case])
    weak = FrozenEstimator(GaussianRandomProjection(2, random_state=0).fit(_X[:50]))
    with pytest.raises(Exception) as mem:
        WeakToStrongRegressor(weak, random_state=0).fit(**inputs)
    dask_inputs = {
        name: _as_dask(value) for name, value in inputs.items() if value is not None
    }
    with pytest.raises(type(mem.value)) as lazy:
        WeakToStrongRegressor(weak, random_state=0).fit(**dask_inputs)
    # the same message (naming the parameter where memory's does), up to the
    # values it quotes: one block's, not all of them
    assert str(lazy.value).splitlines()[0] == str(mem.value).splitlines()[0]
    if case == "negative weight":
        assert "`sample_weight`" in str(lazy.value)


def test_non_finite_features_raise_as_in_memory(client):
    from sklearn.preprocessing import FunctionTransformer

    def nan_at_row_3(X):
        Z = np.asarray(X, dtype=float)[:, :2].copy()
        Z[np.asarray(X)[:, 0] == _X[3, 0]] = np.nan
        return Z

    weak = FunctionTransformer(nan_at_row_3)
    with pytest.raises(ValueError) as mem:
        WeakToStrongRegressor(weak, random_state=0).fit(_X, _Y)
    with pytest.raises(ValueError) as lazy:
        WeakToStrongRegressor(weak, random_state=0).fit(_as_dask(_X), _as_dask(_Y))
    assert str(lazy.value) == str(mem.value)
    assert "`weak_featurizer` returned NaN or infinite features" in str(lazy.value)


def test_what_memory_accepts_dask_accepts(client):
    """Boolean and numeric object weights are weights, in memory and on Dask."""
    weak = FrozenEstimator(GaussianRandomProjection(2, random_state=0).fit(_X[:50]))
    for weights in (_W > 1.0, _W.astype(object)):
        lazy = WeakToStrongRegressor(weak, random_state=0).fit(
            _as_dask(_X), _as_dask(_Y), sample_weight=weights
        )
        mem = WeakToStrongRegressor(weak).fit(
            _X,
            _Y,
            sample_weight=weights,
            roles=_hash_roles(_Y, WeakToStrongRegressor(), 0),
        )
        _assert_same_fit(lazy, mem)


def test_dask_array_with_unknown_chunks(client):
    """Chunk sizes unknown (after a filter): counted in the pass, same fit."""
    X, y, w, weak, strong = _strong_data(seed=7)
    keep = da.from_array(np.ones(len(y), dtype=bool), chunks=600)
    Xd, yd = da.from_array(X, chunks=(600, -1)), da.from_array(y, chunks=600)
    assert np.isnan(Xd[keep].chunks[0][0])
    mem = WeakToStrongRegressor(weak, strong).fit(
        X, y, sample_weight=w, roles=_hash_roles(y, WeakToStrongRegressor(), 3)
    )
    for target in (yd[keep], y):
        lazy = WeakToStrongRegressor(weak, strong, random_state=3).fit(
            Xd[keep], target, sample_weight=w
        )
        _assert_same_fit(lazy, mem)
        assert lazy.score(Xd[keep], yd[keep]) == pytest.approx(mem.score(X, y))
    with pytest.raises(ValueError, match="X has more rows than y"):
        WeakToStrongRegressor(weak, strong).fit(Xd[keep], y[:-5])


def _noisy_block(i, n_rows):
    rng = np.random.default_rng([5, i])
    X = rng.normal(size=(n_rows, 4)) + 3.0
    return np.hstack([X, (X.sum(axis=1) + rng.normal(size=n_rows))[:, None]])


def test_fit_after_computing_the_same_arrays(client):
    """Computing X and y, then fitting on them: no key of theirs reused with
    another task (the distributed scheduler refuses that: a KeyError)."""
    import dask

    weak = FrozenEstimator(GaussianRandomProjection(2, random_state=0).fit(_X[:50]))
    for _ in range(4):
        Xy = da.concatenate(
            [
                da.from_delayed(
                    dask.delayed(_noisy_block, pure=False)(i, 500), (500, 5), float
                )
                for i in range(6)
            ]
        )
        X, y = Xy[:, :4], Xy[:, 4]
        X_mem, y_mem = dask.compute(X, y)
        lazy = WeakToStrongRegressor(weak, random_state=0).fit(X, y)
        assert lazy.score(X, y) == pytest.approx(lazy.score(X_mem, y_mem))
