"""
==============================================
Mixing weak supervisors, weighted by the bound
==============================================

The paper (Charikar, Pabbaraju and Shiragur, *Quantifying the Gain in
Weak-to-Strong Generalization*, NeurIPS 2024) ends on an open direction:
ensembling several weak models. A convex mixture ``sum_k w_k f_k`` of weak
supervisors is one more weak supervisor, and for a strong head linear in its
labels the strong model it trains is the same mixture of the strong models
the supervisors train one by one. Every diagnostic of Theorem 1 is then a
quadratic form in ``w``, and
:class:`~skwtsg.WeakSupervisorSearch` with ``combine="bound"`` picks the
weights with the smallest bound ``weak_error(w) - misfit(w)``, exactly (see
the :ref:`ensembles` guide).
"""

# %%
# Three weak supervisors, wrong in different directions
# -----------------------------------------------------
# A linear target of six features. The strong model sees them all (exact
# least squares); each weak supervisor (a linear model too) sees four of
# them only, a different four each, and rounded to whole numbers. What a
# supervisor misses inside the strong span (the features it does not see)
# the strong model copies; those errors lie in different directions, so
# they partly cancel in a mixture. What it gets wrong outside the span (the
# rounding) the strong model discards: that is the misfit.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.preprocessing import FunctionTransformer

from skwtsg import WeakSupervisorSearch
from skwtsg.model_selection import diagnostic_intervals

rng = np.random.RandomState(0)
X = rng.normal(size=(4000, 6))
y = X @ np.array([1.0, -1.5, 0.8, 1.2, -0.7, 1.0]) + 0.3 * rng.normal(size=4000)
X_train, y_train, X_test, y_test = X[:3000], y[:3000], X[3000:], y[3000:]


def rounded(columns):
    def features(X):
        return np.round(X[:, columns])

    return FunctionTransformer(features)


supervisors = {
    "x0-x3": (rounded([0, 1, 2, 3]), None),
    "x2-x5": (rounded([2, 3, 4, 5]), None),
    "x0, x1, x4, x5": (rounded([0, 1, 4, 5]), None),
}
search = WeakSupervisorSearch(supervisors, combine="bound", random_state=0)
search.fit(X_train, y_train)
print(search.results_.round(3))

# %%
# The bound-optimal mixture
# -------------------------
# ``weights_`` are the mixture's weights, ``mixture_report_`` its
# diagnostics on the same eval rows as the single supervisors' (with
# bootstrap intervals in ``mixture_intervals_``), and ``qp_certificate_``
# the quadratic programme's certificate: a KKT residual at rounding level and
# the gap to the best vertex (the best single supervisor).
names = list(search.results_.index)
print(
    "weights:", {n: round(float(w), 3) for n, w in zip(names, search.weights_)}
)
print({k: round(v, 3) for k, v in search.mixture_report_.items()})
low, high = search.mixture_intervals_["strong_error_ci"]
print(f"strong error 95% interval over the eval rows: [{low:.3f}, {high:.3f}]")
print(
    {
        k: search.qp_certificate_[k]
        for k in ("kkt_residual", "vertex_gap", "convex")
    }
)

uniform = WeakSupervisorSearch(supervisors, combine="uniform", random_state=0)
uniform.fit(X_train, y_train)
print(
    "uniform mixture:",
    {k: round(v, 3) for k, v in uniform.mixture_report_.items()},
)

# %%
# On new rows
# -----------
# ``predict`` is the strong model trained on the mixture's labels and
# ``predict_weak`` the mixture itself, so the held-out diagnostics and their
# intervals come from :func:`~skwtsg.model_selection.diagnostic_intervals`,
# as for any weak-to-strong model.
held_out = diagnostic_intervals(
    search, X_test, y_test, n_resamples=999, random_state=0
)
print(
    f"held out: strong error {held_out['strong_error']:.3f} "
    f"(bound {held_out['bound']:.3f}); best single supervisor's strong error "
    f"{search.results_['strong_error'].min():.3f} on the eval rows"
)

# %%
# The paper's question: a gain close to the sum of the misfits?
# -------------------------------------------------------------
# The mixture's gain over its own weak error stays close to its own misfit
# (Theorem 1), and a convex mixture's misfit is at most the weighted mean of
# the individual ones (the misfit is a convex function of the weights): it
# cannot reach their sum. What the mixture gains is a smaller weak error,
# since the supervisors' errors inside the strong span partly cancel; its
# strong error ends well below the best single supervisor's.
report = search.mixture_report_
single = search.results_
print(
    f"mixture: gain {report['gain']:.3f}, misfit {report['misfit']:.3f}, "
    f"sum of the individual misfits {single['misfit'].sum():.3f}; best "
    f"single weak error {single['weak_error'].min():.3f} -> mixture's "
    f"strong error {report['strong_error']:.3f}"
)

# %%
# The forms over the simplex
# --------------------------
# ``mixture_forms_`` holds the 3 x 3 matrix of each diagnostic. The bound's
# form is a positive semidefinite form (the weak error) minus another (the
# misfit), so it can be indefinite; the strong error's form is measured with
# the true labels of the eval rows, the check the bound stands in for.
a, b = np.meshgrid(np.linspace(0, 1, 121), np.linspace(0, 1, 121))
inside = a + b <= 1
W = np.column_stack([a[inside], b[inside], 1 - a[inside] - b[inside]])
corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
xy = W @ corners
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
for ax, name in zip(axes, ("bound", "strong_error")):
    G = search.mixture_forms_[name]
    values = np.einsum("pi,ij,pj->p", W, G, W)
    tiles = ax.tricontourf(
        xy[:, 0], xy[:, 1], values, levels=20, cmap="viridis"
    )
    fig.colorbar(tiles, ax=ax, shrink=0.8)
    chosen = search.weights_ @ corners
    ax.plot(*chosen, "r*", ms=14, label="bound-optimal weights")
    for corner, label, va in zip(corners, names, ("top", "top", "bottom")):
        ax.annotate(label, corner, ha="center", va=va, fontsize="small")
    ax.set(xlim=(-0.15, 1.15), ylim=(-0.12, 1.0))
    ax.set_title(f"{name.replace('_', ' ')} of the mixture (eval rows)")
    ax.set_axis_off()
axes[0].legend(loc="upper left", fontsize="small", frameon=False)
fig.tight_layout()
plt.show()
