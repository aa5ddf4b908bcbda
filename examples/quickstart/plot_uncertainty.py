"""
=========================
How sure is the bound?
=========================

The paper's heuristic (Charikar, Pabbaraju and Shiragur, *Quantifying the
Gain in Weak-to-Strong Generalization*, NeurIPS 2024, Section 5.2 and
Tables 1-3) picks the weak supervisor with the smallest bound
``weak error - misfit``. Its tables report each bound as mean ± std over
three splits, and its picks differ from the best candidate by less than that
std. This example puts numbers on that uncertainty, with two kinds of
interval:

1. **Evaluation-sample uncertainty**: the fitted models held fixed, a
   bootstrap of the evaluation rows
   (:func:`skwtsg.model_selection.diagnostic_intervals`).
2. **Refit uncertainty**: the models refitted on other training rows, with
   scikit-learn's own loop (:func:`~sklearn.model_selection.cross_validate`
   over :class:`~sklearn.model_selection.RepeatedKFold`), then a ranking of
   the candidates that knows it (:func:`skwtsg.metrics.rank_weak_supervisors`).
"""

# %%
# Data and candidates
# -------------------
# A linear target with noise. The weak supervisors see the signs of the
# first ``k`` principal components (as in the :ref:`selection` guide), the
# strong model every feature.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, RepeatedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skwtsg
from skwtsg.metrics import rank_weak_supervisors
from skwtsg.model_selection import diagnostic_intervals
from skwtsg.plot import WeakModelSelectionDisplay

rng = np.random.RandomState(0)
X = rng.normal(size=(1200, 8)) * np.linspace(2.0, 0.3, 8)
y = X @ rng.normal(size=8) + rng.normal(size=1200)
X_train, y_train, X_test, y_test = X[:600], y[:600], X[600:], y[600:]


def signs_of_components(k):
    return make_pipeline(PCA(n_components=k), FunctionTransformer(np.sign))


# %%
# 1. Intervals on held-out rows
# -----------------------------
# One fit, then the diagnostics on 600 held-out rows with 95% BCa intervals.
# One paired bootstrap of the rows drives all five, so the gain's and the
# bound's intervals respect their correlation with the errors.
est = skwtsg.WeakToStrongRegressor(signs_of_components(3), random_state=0)
est.fit(X_train, y_train)
report = diagnostic_intervals(est, X_test, y_test, random_state=0)
for name in ("weak_error", "strong_error", "misfit", "gain", "bound"):
    low, high = report[name + "_ci"]
    print(f"{name:>12}: {report[name]:6.3f}  [{low:6.3f}, {high:6.3f}]")

# %%
# The misfit needs no true label, nor does its interval:
print(diagnostic_intervals(est, X_test, random_state=0)["misfit_ci"])

# %%
# These intervals say how far the measured diagnostics of *these* fitted
# models may be from their population values. They say nothing about
# refitting the models on other rows.
#
# 2. Refit uncertainty with scikit-learn
# --------------------------------------
# The paper's ± is over splits: refit and score on each. ``cross_validate``
# with the skwtsg scorers does it; mean and std come from its scores.
cv = RepeatedKFold(n_splits=3, n_repeats=3, random_state=0)
scores = cross_validate(
    est,
    X,
    y,
    cv=cv,
    scoring={"bound": skwtsg.bound_scorer, "mse": skwtsg.strong_error_scorer},
)
bound = -scores["test_bound"]
print(f"bound over {len(bound)} refits: {bound.mean():.3f} ± {bound.std():.3f}")

# %%
# Over candidates, ``GridSearchCV`` runs the same loop and keeps the per-split
# scores in ``cv_results_`` (``mean_test_bound``, ``std_test_bound``,
# ``split0_test_bound``, ...).
search = GridSearchCV(
    skwtsg.WeakToStrongRegressor(random_state=0),
    {"weak_featurizer": [signs_of_components(k) for k in (1, 2, 3, 5)]},
    scoring={"bound": skwtsg.bound_scorer, "mse": skwtsg.strong_error_scorer},
    refit="bound",
    cv=cv,
).fit(X, y)
print(np.round(-search.cv_results_["mean_test_bound"], 3))
print(np.round(search.cv_results_["std_test_bound"], 3))

# %%
# Ranking that knows its uncertainty
# ----------------------------------
# Per candidate: the mean bound, its 95% interval over splits (Student's t),
# the probability it has the lowest bound (a paired bootstrap of the
# splits: every candidate is resampled on the same splits), the plain pick
# and the one-standard-error pick: the simplest candidate (here the fewest
# components, the order of the grid) whose mean bound is within one standard
# error of the smallest.
ranking = rank_weak_supervisors(search, random_state=0)
ranking.index = [
    f"PCA({p['weak_featurizer'][0].n_components})"
    for p in np.asarray(search.cv_results_["params"])[ranking["position"]]
]
print(
    ranking[
        [
            "bound_mean",
            "bound_low",
            "bound_high",
            "p_lowest",
            "pick",
            "pick_1se",
        ]
    ]
    .round(3)
    .to_string()
)

# %%
# The display draws the intervals as error bars, from the ranking.
display = WeakModelSelectionDisplay.from_cv_results(search)
plt.show()
