"""
============================
A first weak-to-strong model
============================

A weak model is trained on true labels; a strong model is trained on the weak
model's labels only. Theorem 1 of Charikar, Pabbaraju and Shiragur,
*Quantifying the Gain in Weak-to-Strong Generalization* (NeurIPS 2024), says
the strong model then beats its teacher by at least its *misfit*, the mean
squared difference between the two models' predictions, which needs no true
label. This example fits :class:`~skwtsg.WeakToStrongRegressor`, plots the
gain against the misfit with :class:`~skwtsg.plot.GainMisfitDisplay`, and
chooses a weak supervisor by the bound with :func:`~skwtsg.bound_scorer`
and :class:`~skwtsg.plot.WeakModelSelectionDisplay`.
"""

# %%
# A world with a true representation
# ----------------------------------
# The truth of each task is a linear function of a representation
# :math:`h^\star(x) = \tanh(x W)` of the input. The strong model has
# :math:`h^\star` itself; weak models have copies of it whose weights are
# perturbed by Gaussian noise of scale ``sigma`` (the paper's Figure 2c does
# the same with deep networks). Twenty tasks share the representations.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.preprocessing import FunctionTransformer

from skwtsg import WeakToStrongRegressor

rng = np.random.RandomState(0)
n_features, n_hidden, n_tasks = 8, 32, 20
W = rng.normal(size=(n_features, n_hidden))
B = rng.normal(size=(n_hidden, n_tasks)) / np.sqrt(n_hidden)


def tanh_features(X, W):
    return np.tanh(X @ W)


def make_data(n_samples):
    X = rng.normal(size=(n_samples, n_features))
    return X, tanh_features(X, W) @ B


def perturbed(sigma):
    """A weak representation: h* with its weights perturbed."""
    W_weak = W + sigma * np.random.RandomState(1).normal(size=W.shape)
    return FunctionTransformer(tanh_features, kw_args={"W": W_weak})


strong = FunctionTransformer(tanh_features, kw_args={"W": W})
X, Y = make_data(2000)
X_test, Y_test = make_data(4000)

# %%
# Fit
# ---
# ``fit`` divides the labeled rows: 20% are held out for the diagnostics
# (``eval_size``), the rest are split between the weak model (true labels)
# and the strong model (weak labels only, ``strong_size``). The default head
# is exact least squares, the projection Theorem 1 is about.
w2s = WeakToStrongRegressor(perturbed(0.5), strong, random_state=0).fit(X, Y)

print(f"weak error   {w2s.weak_error_.mean():.4f}")
print(f"strong error {w2s.strong_error_.mean():.4f}")
print(f"gain         {w2s.gain_.mean():.4f}")
print(f"misfit       {w2s.misfit_.mean():.4f}  (no true label needed)")

# %%
# Each attribute has one value per task (column of ``Y``). The strong model
# is better than its teacher, and its gain is the misfit up to sampling
# error on the 400 held-out rows.
#
# Gain against misfit
# -------------------
# Evaluate three weak supervisors on fresh data: each task of each model is
# one point. They lie along the line *gain = misfit*, as in the paper's
# Figure 2. The small shortfall below the line is the finite-sample term of
# the paper's Theorem 2: the strong head saw 800 weakly labelled rows.
sigmas = [0.25, 0.5, 1.0]
models = [
    WeakToStrongRegressor(perturbed(s), strong, random_state=0).fit(X, Y)
    for s in sigmas
]

from skwtsg.plot import GainMisfitDisplay

display = GainMisfitDisplay.from_estimator(
    models, X_test, Y_test, labels=[f"sigma={s}" for s in sigmas], show_fit=True
)
display.ax_.set_title("Gain in accuracy against misfit, one point per task")
plt.show()

# %%
# Choosing the weak supervisor
# ----------------------------
# Theorem 1 also bounds the strong model's error by ``weak error − misfit``,
# which needs true labels only on the weak side. A grid search scored with
# :func:`~skwtsg.bound_scorer` picks the weak model with the smallest bound.
# Scoring the strong model's true error as well (``"mse"``) is only a check:
# the selection (``refit="bound"``) does not use it.
from sklearn.model_selection import GridSearchCV

from skwtsg import bound_scorer
from skwtsg.plot import WeakModelSelectionDisplay

candidates = [0.1, 0.25, 0.5, 1.0, 2.0]
search = GridSearchCV(
    WeakToStrongRegressor(strong_featurizer=strong, random_state=0),
    {"weak_featurizer": [perturbed(s) for s in candidates]},
    scoring={"bound": bound_scorer, "mse": "neg_mean_squared_error"},
    refit="bound",
    cv=3,
).fit(X, Y)

display = WeakModelSelectionDisplay.from_cv_results(
    search, labels=[f"sigma={s}" for s in candidates]
)
display.ax_.set_title("Choosing a weak supervisor by the bound")
plt.show()

# %%
# The candidate with the smallest bound also gives the most accurate strong
# model. Here the strong representation can express the truth and the head
# is exact, so the bound is tight; with real data it is an upper bound up to
# the error terms of the paper's Theorem 2, and only its ranking matters.
print("picked:", candidates[display.pick_index_])
