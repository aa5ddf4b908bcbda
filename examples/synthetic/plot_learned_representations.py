"""
======================================================
Learned representations by hand: pretrain, then freeze
======================================================

Charikar, Pabbaraju and Shiragur (2024), *Quantifying the Gain in
Weak-to-Strong Generalization*, §5.1, Figures 2b and 2c, at a small scale
and built from the pieces: our own ``torch.nn.Module``, multi-task
pretraining, freezing, and perturbed weights. Then a grid search tunes the
depth of a *pretrained* strong network, scored by Theorem 1's bound.

Theorem 1 assumes that the strong representation ``h_s`` is fixed when the
weak labels arrive. So every representation here is pretrained on its own
data (or perturbed from the truth) and then frozen; none is trained on the
weak labels. ``python -m skwtsg reproduce synthetic`` runs the paper's sizes.
"""

# %%
# The synthetic world and our own network
# ---------------------------------------
# :func:`~skwtsg.datasets.make_synthetic_tasks` draws the paper's target
# representation ``h*`` (a random ReLU MLP), Gaussian inputs of scale 500,
# pretraining tasks (each row labelled for one task, NaN for the others) and
# linear finetuning tasks with fresh weak, strong and eval samples.
import numpy as np
import torch

from skwtsg.datasets import make_synthetic_tasks

tasks = make_synthetic_tasks(
    n_pretrain_tasks=10,
    n_pretrain_samples=200,
    n_tasks=12,
    n_samples=2000,
    random_state=0,
)
X = np.vstack([tasks.X_weak, tasks.X_strong, tasks.X_eval])
y = np.vstack([tasks.y_weak, tasks.y_strong, tasks.y_eval])
roles = np.repeat(["weak", "strong", "eval"], len(tasks.X_weak))


class DeepReLU(torch.nn.Module):
    """``n_layers`` linear layers of width ``hidden``, each followed by ReLU."""

    def __init__(self, in_features=8, hidden=16, n_layers=2):
        super().__init__()
        widths = [in_features] + [hidden] * n_layers
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(widths, widths[1:])
        )

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x


# %%
# Figure 2b: pretrain, then freeze
# --------------------------------
# :class:`~skwtsg.featurizers.MultiTaskFeaturizer` fits the paper's eq. (9):
# our module under the pretraining tasks' fixed linear heads. We pretrain a
# 2-layer weak and an 8-layer strong network (the paper's), a few epochs
# only, then freeze each in
# :class:`~sklearn.frozen.FrozenEstimator`: the estimator uses them as they
# are, it never refits them (an unfrozen fitted featurizer would be cloned
# and refitted, with a warning).
from sklearn.frozen import FrozenEstimator

from skwtsg import WeakToStrongRegressor
from skwtsg.featurizers import MultiTaskFeaturizer


def pretrainer(n_layers, seed):
    return MultiTaskFeaturizer(
        DeepReLU,
        module__n_layers=n_layers,
        task_heads=tasks.pretrain_heads,
        max_epochs=80,
        batch_size=128,
        n_init=1,
        random_state=seed,
    )


h_w = pretrainer(2, seed=0).fit(tasks.pretrain_X, tasks.pretrain_Y)
h_s = pretrainer(8, seed=1).fit(tasks.pretrain_X, tasks.pretrain_Y)
fig_2b = WeakToStrongRegressor(
    FrozenEstimator(h_w), FrozenEstimator(h_s), random_state=0
).fit(X, y, roles=roles)

# %%
# Figure 2c: perturb, then freeze
# -------------------------------
# :func:`~skwtsg.featurizers.perturb_weights` adds Gaussian noise to every
# weight of ``h*``: σ = 0.01 for the strong, 0.05 for the weak
# representation. :class:`~skwtsg.featurizers.TorchFeaturizer` runs a
# module's forward pass without training it.
from skwtsg.featurizers import TorchFeaturizer, perturb_weights

h_star = tasks.target_module
fig_2c = WeakToStrongRegressor(
    TorchFeaturizer(perturb_weights(h_star, 0.05, random_state=1)),
    TorchFeaturizer(perturb_weights(h_star, 0.01, random_state=2)),
    random_state=0,
).fit(X, y, roles=roles)

# %%
# Gain against misfit
# -------------------
# Each point is one finetuning task, measured on the eval rows. Neither
# representation can express the truth exactly (they are not ``h*``), so
# Theorem 2 applies: the gain tracks the misfit up to error terms, without
# equalling it.
import matplotlib.pyplot as plt

from skwtsg.plot import GainMisfitDisplay

fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, model, title in zip(
    axes, (fig_2b, fig_2c), ("2b: pretrained", "2c: perturbed")
):
    GainMisfitDisplay.from_estimator(
        model, tasks.X_eval, tasks.y_eval, ax=ax, show_fit=True
    )
    ax.set_title(title)
fig.tight_layout()

for name, model in (("2b", fig_2b), ("2c", fig_2c)):
    slope = np.polyfit(model.misfit_, model.gain_, 1)[0]
    print(
        f"{name}: mean gain {model.gain_.mean():.4f}, mean misfit "
        f"{model.misfit_.mean():.4f}, slope of gain on misfit {slope:.2f}"
    )

# %%
# Tune a pretrained strong architecture by the bound
# --------------------------------------------------
# ``FrozenEstimator`` hides the network's parameters from a search.
# :class:`~skwtsg.featurizers.PretrainedFeaturizer` instead pretrains a clone
# of its featurizer on its *own* data inside ``fit`` and ignores the weak
# labels it is given, so ``strong_featurizer__featurizer__module__n_layers``
# can be searched: each candidate depth is pretrained, frozen, and scored by
# :func:`~skwtsg.bound_scorer` (weak error minus misfit, no strong label
# needed). Pretraining does not depend on the fold, so ``memory`` pretrains
# each candidate once. For comparison only, the search also records each
# candidate's strong error on held-out true labels
# (:func:`~skwtsg.strong_error_scorer`), which a weak-to-strong user would
# not have.
import tempfile

from sklearn.model_selection import GridSearchCV

from skwtsg import bound_scorer, strong_error_scorer
from skwtsg.featurizers import PretrainedFeaturizer

cache = tempfile.mkdtemp()
strong = PretrainedFeaturizer(
    pretrainer(8, seed=1), tasks.pretrain_X, tasks.pretrain_Y, memory=cache
)
search = GridSearchCV(
    WeakToStrongRegressor(FrozenEstimator(h_w), strong, random_state=0),
    {"strong_featurizer__featurizer__module__n_layers": [1, 8]},
    scoring={"bound": bound_scorer, "strong_error": strong_error_scorer},
    refit="bound",
    cv=2,
).fit(X[roles != "eval"], y[roles != "eval"])
results = search.cv_results_
for depth, bound, error in zip(
    results["param_strong_featurizer__featurizer__module__n_layers"],
    results["mean_test_bound"],
    results["mean_test_strong_error"],
):
    print(f"depth {depth}: bound {-bound:.3f}, strong error {-error:.3f}")
print("chosen by the bound:", search.best_params_)

# %%
# The bound ranks strong representations as Theorem 1 promises only when
# they can express the truth. Briefly pretrained networks cannot quite, and
# Theorem 2's error term (of the order of the square root of their distance
# to the truth) can be as large as the differences between candidates:
# compare the two columns above, and pretrain longer (the paper's 1000
# epochs) before trusting small differences.

# %%
# What not to do: a trainable strong featurizer, unwrapped, would be trained
# on the weak labels and learn to imitate the weak model; the estimator
# warns, and Theorem 1 no longer applies. See the user guide,
# :ref:`representations`.
