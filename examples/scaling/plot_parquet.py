"""
==================================
A Parquet folder, read in one pass
==================================

A :class:`~skwtsg.WeakToStrongRegressor` fitted on a Dask DataFrame reads
every row once: each partition is featurized, the joint moments of its weak
features, strong features and labels are kept, and the heads and every
diagnostic are solved from the merged moments. Here the data are a folder
of Parquet files (a few small ones, written into a temporary directory so
that the example runs anywhere in seconds), read lazily with
:func:`dask.dataframe.read_parquet`; Dask's own
:class:`~dask.diagnostics.ProgressBar` shows the pass. See
:ref:`larger_than_memory`.

Reading Parquet needs ``pyarrow``, which ``dask[dataframe]`` (the
``skwtsg[dask]`` extra) installs.
"""

# %%
# A Parquet folder
# ----------------
# Four files of 5 000 rows: 12 numeric columns and a label ``y``, a quarter
# of it missing (unlabeled rows, which train the strong model).
import tempfile
from pathlib import Path

import dask.dataframe as dd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from dask.diagnostics import ProgressBar
from sklearn.frozen import FrozenEstimator
from sklearn.random_projection import GaussianRandomProjection

from skwtsg import WeakToStrongRegressor

n_features = 12
columns = [f"x{j}" for j in range(n_features)]
beta = np.random.default_rng(0).normal(size=n_features)
folder = tempfile.TemporaryDirectory()
for i in range(4):
    rng = np.random.default_rng([1, i])
    X = rng.normal(size=(5_000, n_features)) + 2.0
    y = X @ beta + rng.normal(size=5_000)
    y[rng.random(5_000) < 0.25] = np.nan
    frame = pd.DataFrame(X, columns=columns).assign(y=y)
    frame.to_parquet(Path(folder.name) / f"part-{i}.parquet")

# %%
# Read lazily
# -----------
# One partition per file; their lengths are in the Parquet footers, so the
# fit knows the global index of every row (its role comes from a hash of
# that index) without reading the rows first.
data = dd.read_parquet(folder.name)
X, y = data[columns], data["y"]
print(f"{data.npartitions} partitions, columns {list(data.columns)}")

# %%
# Pre-fitted featurizers
# ----------------------
# Featurizers that learn from the rows are fitted beforehand, here on the
# first partition, and frozen. The weak model sees a 3-dimensional
# projection, the strong model an 8-dimensional one.
sample = X.partitions[0].compute()
weak = FrozenEstimator(GaussianRandomProjection(3, random_state=0).fit(sample))
strong = FrozenEstimator(
    GaussianRandomProjection(8, random_state=1).fit(sample)
)

# %%
# One pass, with a progress bar
# -----------------------------
# ``ProgressBar`` follows the local schedulers (threads, processes). On a
# cluster, the same ``fit`` runs unchanged after
# ``client = Client("tcp://scheduler-address:8786")``; follow it on the
# client's dashboard, or with :func:`distributed.progress`.
est = WeakToStrongRegressor(weak, strong, random_state=0)
with ProgressBar():
    est.fit(X, y)
report = {
    name: getattr(est, name + "_")
    for name in ("weak_error", "strong_error", "misfit", "bound")
}
print({name: round(float(value), 3) for name, value in report.items()})
print("measured on the", est.diagnostic_rows_["misfit"], "rows")

# %%
# The same fit in memory
# ----------------------
# Given the roles of the Dask fit, the in-memory fit of the same rows gives
# the same coefficients and diagnostics, to rounding error.
frame = data.compute()
mem = WeakToStrongRegressor(weak, strong).fit(
    frame[columns], frame["y"], roles=est.roles_.compute()
)
diff = np.max(np.abs(est.head_.coef_ - mem.head_.coef_)) / np.max(
    np.abs(mem.head_.coef_)
)
print(f"largest relative difference of the strong coefficients: {diff:.1e}")
print(f"bound_: Dask {est.bound_:.6f}, in memory {mem.bound_:.6f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.bar(list(report), list(report.values()), color=["C1", "C0", "C2", "C3"])
ax.set_ylabel("mean squared error (eval rows)")
ax.set_title("Diagnostics from one pass over a Parquet folder")
fig.tight_layout()
folder.cleanup()
