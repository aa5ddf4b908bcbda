"""
==================
Larger than memory
==================

A :class:`~skwtsg.WeakToStrongRegressor` fitted on a Dask array never
gathers the rows: the (pre-fitted) featurizers run block by block on the
workers, the heads are solved from statistics merged across blocks, and the
diagnostics are sums over blocks. The roles of the rows come from a hash of
their global index and ``random_state``, so the fit does not depend on how
the rows are partitioned, and an in-memory fit given the same roles gives the
same coefficients. See :ref:`larger_than_memory`.

The data here are small, so that the example runs in seconds; the same code
runs on 10⁷ rows, or on your own cluster with ``Client("tcp://...")``.
"""

# %%
# Data, lazily in blocks
# ----------------------
# Each block of rows is made by its own seeded generator: the whole array is
# never held in one place.
import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster
from sklearn.frozen import FrozenEstimator
from sklearn.random_projection import GaussianRandomProjection

from skwtsg import WeakToStrongRegressor

n_blocks, block_rows, n_features = 8, 5_000, 20
beta = np.random.default_rng(0).normal(size=n_features)


def make_block(i):
    rng = np.random.default_rng([0, i])
    X = rng.normal(size=(block_rows, n_features)) + 3.0
    y = X @ beta + rng.normal(size=block_rows)
    return np.hstack([X, y[:, None]])


Xy = da.concatenate(
    [
        da.from_delayed(
            dask.delayed(make_block)(i), (block_rows, n_features + 1), float
        )
        for i in range(n_blocks)
    ]
)
X, y = Xy[:, :n_features], Xy[:, n_features]

# %%
# A cheap local cluster
# ---------------------
# One worker with threads, in this process. On a real cluster, replace these
# two lines by ``client = Client("tcp://scheduler-address:8786")``.
cluster = LocalCluster(
    n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
)
client = Client(cluster)

# %%
# Pre-fitted featurizers
# ----------------------
# Featurizers that learn from the rows must be fitted beforehand (here the
# random projections learn only the input width) and wrapped in
# :class:`~sklearn.frozen.FrozenEstimator`.
sample = X[:1000].compute()
weak = FrozenEstimator(GaussianRandomProjection(5, random_state=0).fit(sample))
strong = FrozenEstimator(
    GaussianRandomProjection(12, random_state=1).fit(sample)
)

est = WeakToStrongRegressor(weak, strong, random_state=0).fit(X, y)
print(f"gain {est.gain_:.3f}, misfit {est.misfit_:.3f}, bound {est.bound_:.3f}")

# %%
# The same fit in memory
# ----------------------
# Given the roles of the Dask fit, the in-memory fit on the same rows gives
# the same coefficients (to rounding error).
X_mem, y_mem = dask.compute(X, y)
mem = WeakToStrongRegressor(weak, strong).fit(
    X_mem, y_mem, roles=est.roles_.compute()
)
diff = np.max(np.abs(est.head_.coef_ - mem.head_.coef_)) / np.max(
    np.abs(mem.head_.coef_)
)
print(f"largest relative difference of the strong coefficients: {diff:.1e}")

# Predictions stay lazy until computed.
y_pred = est.predict(X)
print(type(y_pred).__name__, y_pred.shape)

fig, ax = plt.subplots(figsize=(5, 4))
ax.scatter(mem.head_.coef_, est.head_.coef_, s=25)
ax.axline((0, 0), slope=1, color="grey", lw=1)
ax.set_xlabel("strong coefficient, in memory")
ax.set_ylabel("strong coefficient, Dask")
ax.set_title(f"max relative difference {diff:.0e}")
fig.tight_layout()

client.close()
cluster.close()
