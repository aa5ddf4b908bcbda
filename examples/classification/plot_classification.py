"""
=====================================================
Weak-to-strong classification: gain and the KL misfit
=====================================================

Mulgund and Pabbaraju (*Relating Misfit to Gain in Weak-to-Strong
Generalization Beyond the Squared Loss*, 2025) carry the result of Charikar,
Pabbaraju and Shiragur (NeurIPS 2024) over to classification: when the strong
model ``softmax(W h_s + b)`` is fitted by cross-entropy on the weak model's
class probabilities ``p_w``, and the truth's probabilities ``p*`` are in the
strong model's reach, then on the strong head's training sample

.. math::

    \\mathrm{KL}(p_w \\,\\|\\, p^\\star) = \\mathrm{KL}(p_w \\,\\|\\, p_{sw})
    + \\mathrm{KL}(p_{sw} \\,\\|\\, p^\\star),

i.e. *gain = misfit* with errors measured as ``E[KL(p_model ‖ p*)]``, and the
strong error equals the **KL bound** ``weak error - misfit``, which needs no
true label on the strong rows. This example fits
:class:`~skwtsg.WeakToStrongClassifier` with three weak supervisors of
different quality and reads off each one's weak and strong error, misfit and
bound.
"""

# %%
# A realizable problem
# --------------------
# Three classes whose probabilities are a softmax of the 6 raw features: the
# strong representation (``"passthrough"``) can express the truth exactly. We
# pass the true probabilities as ``y`` so that every error is a KL divergence
# to ``p*``.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.preprocessing import FunctionTransformer, KBinsDiscretizer

from skwtsg import WeakToStrongClassifier

rng = np.random.RandomState(0)
n_samples, n_features, n_classes = 3000, 6, 3
X = rng.normal(size=(n_samples, n_features))
logits = X @ rng.normal(size=(n_features, n_classes))
P = np.exp(logits - logits.max(axis=1, keepdims=True))
P /= P.sum(axis=1, keepdims=True)

# %%
# Three weak supervisors
# ----------------------
# Each sees a degraded view of ``X``: only the signs of the features, the
# features rounded to integers, or every feature binned into 3 levels of
# equal width (one-hot). Its head
# (the default, a lightly penalised softmax) is fitted on the true
# probabilities of the weak rows; the strong head only sees its predictions.
weak_models = {
    "signs": FunctionTransformer(np.sign),
    "rounded": FunctionTransformer(np.round),
    "3 bins per feature": KBinsDiscretizer(
        n_bins=3, encode="onehot-dense", strategy="uniform"
    ),
}
fitted = {
    name: WeakToStrongClassifier(weak, random_state=0).fit(X, P)
    for name, weak in weak_models.items()
}

# %%
# Weak and strong error, misfit and bound
# ---------------------------------------
# ``train_report_`` holds the diagnostics on the strong head's own training
# rows, where the identity is exact: the gain equals the misfit and the
# strong error equals the bound up to the solver's tolerance. The attributes
# (``weak_error_``, ``strong_error_``, ...) are measured on held-out rows,
# where the identity holds only approximately.
print(
    f"{'weak model':<20} {'rows':<8} {'weak':>7} {'strong':>7} {'misfit':>7} "
    f"{'gain':>7} {'bound':>7}"
)
for name, est in fitted.items():
    r = est.train_report_
    held = [
        est.weak_error_,
        est.strong_error_,
        est.misfit_,
        est.gain_,
        est.bound_,
    ]
    for rows, values in [
        (
            "train",
            [
                r[k]
                for k in (
                    "weak_error",
                    "strong_error",
                    "misfit",
                    "gain",
                    "bound",
                )
            ],
        ),
        ("held", held),
    ]:
        print(f"{name:<20} {rows:<8} " + " ".join(f"{v:7.4f}" for v in values))
    assert np.isclose(r["gain"], r["misfit"], rtol=1e-6, atol=1e-8)

# %%
# Gain against misfit
# -------------------
# Each weak model is one point per set of rows; on the training rows they lie
# on the line gain = misfit, and the held-out rows stay close to it. The
# weak supervisor with the smallest bound (weak error - misfit) is the one
# whose strong model is best, which is how the bound chooses a supervisor
# without true labels on the strong side (see :func:`skwtsg.kl_bound_scorer`).
fig, (ax, bar) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for (name, est), marker in zip(fitted.items(), "osD"):
    r = est.train_report_
    ax.plot(r["misfit"], r["gain"], marker, color="tab:blue", markersize=8)
    ax.plot(est.misfit_, est.gain_, marker, color="tab:orange", markersize=8)
    ax.annotate(
        name,
        (r["misfit"], r["gain"]),
        xytext=(6, -12),
        textcoords="offset points",
        fontsize="small",
    )
top = max(max(e.train_report_["misfit"], e.misfit_) for e in fitted.values())
ax.plot(
    [0, 1.1 * top], [0, 1.1 * top], "k--", linewidth=1, label="gain = misfit"
)
ax.plot([], [], "o", color="tab:blue", label="strong head's training rows")
ax.plot([], [], "o", color="tab:orange", label="held-out rows")
ax.set_xlabel(r"misfit $\mathrm{E\,KL}(p_w \,\|\, p_{sw})$")
ax.set_ylabel("gain (weak error - strong error, in KL)")
ax.legend(fontsize="small")
ax.set_title("Gain is the misfit")

names = list(fitted)
x = np.arange(len(names))
width = 0.27
for i, (label, values) in enumerate(
    [
        ("weak error", [fitted[n].weak_error_ for n in names]),
        ("strong error", [fitted[n].strong_error_ for n in names]),
        ("KL bound", [fitted[n].bound_ for n in names]),
    ]
):
    bar.bar(x + (i - 1) * width, values, width, label=label)
bar.set_xticks(x, names, fontsize="small")
bar.set_ylabel(r"$\mathrm{E\,KL}(p \,\|\, p^\star)$ on held-out rows")
bar.legend(fontsize="small")
bar.set_title("The bound tracks the strong error")
plt.show()

# %%
# With hard labels
# ----------------
# With observed class labels instead of probabilities the errors are
# log-losses (the KL divergence up to the truth's entropy, which cancels in
# the gain), and the classifier also reports accuracies.
y = np.array([rng.choice(n_classes, p=p) for p in P])
est = WeakToStrongClassifier(weak_models["signs"], random_state=0).fit(X, y)
print(
    f"accuracy: weak {est.weak_accuracy_:.3f}, "
    f"strong {est.strong_accuracy_:.3f}, "
    f"ceiling {est.ceiling_accuracy_:.3f}; PGR {est.accuracy_pgr_:.2f}"
)
print(
    f"log-loss: weak {est.weak_error_:.4f}, strong {est.strong_error_:.4f}, "
    f"bound {est.bound_:.4f}"
)
