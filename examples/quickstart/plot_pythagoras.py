"""
==================================
Theorem 1 is a Pythagorean theorem
==================================

Why is the gain of a weakly supervised strong model at least its misfit?
Charikar, Pabbaraju and Shiragur (*Quantifying the Gain in Weak-to-Strong
Generalization*, NeurIPS 2024, Section 4 and Figure 1) prove it with the
geometry of projections onto a convex set. This example draws that picture
and checks it numerically with the exact heads of :mod:`skwtsg.heads`: the
gain **equals** the misfit for a least-squares head (a projection onto a
linear space) and **exceeds** it for a head over a convex cone.
"""

# %%
# The picture
# -----------
# Think of functions as points, with the squared distance
# :math:`d(f, g) = \mathbb{E}(f(x) - g(x))^2`. The strong model can reach
# the set :math:`V_s = \{f \circ h_s : f \in \mathcal{F}_s\}`, convex when
# :math:`\mathcal{F}_s` is. Trained by least squares on the weak labels, it
# lands on the *projection* :math:`f_{sw} \circ h_s` of the weak model
# :math:`f_w \circ h_w` onto :math:`V_s`. If the truth :math:`f^\star \circ
# h^\star` is in :math:`V_s`, the angle at the projection is at least 90°,
# so with :math:`A` the strong error, :math:`B` the misfit and :math:`C` the
# weak error (all squared distances), :math:`C \ge A + B`. For a linear
# space the angle is exactly 90° and :math:`C = A + B`.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Polygon


def project_onto_polygon(point, vertices):
    """Nearest point of a convex polygon's boundary (point is outside)."""
    best, best_dist = None, np.inf
    for a, b in zip(vertices, np.roll(vertices, -1, axis=0)):
        t = np.clip(np.dot(point - a, b - a) / np.dot(b - a, b - a), 0, 1)
        q = a + t * (b - a)
        if np.sum((point - q) ** 2) < best_dist:
            best, best_dist = q, np.sum((point - q) ** 2)
    return best


def draw(ax, f_weak, f_sw, f_star, title):
    A = np.sum((f_sw - f_star) ** 2)
    B = np.sum((f_sw - f_weak) ** 2)
    C = np.sum((f_weak - f_star) ** 2)
    for p, q, color, name in [
        (f_weak, f_star, "tab:red", "C: weak error"),
        (f_sw, f_star, "tab:green", "A: strong error"),
        (f_weak, f_sw, "tab:blue", "B: misfit"),
    ]:
        ax.plot(*np.transpose([p, q]), color=color, linewidth=2, label=name)
    points = {
        r"$f_w \circ h_w$": (f_weak, (8, 2)),
        r"$f_{sw} \circ h_s$": (f_sw, (8, -12)),
        r"$f^\star \circ h^\star$": (f_star, (-20, -16)),
    }
    for text, (p, offset) in points.items():
        ax.plot(*p, "ko", markersize=4)
        ax.annotate(text, p, xytext=offset, textcoords="offset points")
    relation = "=" if np.isclose(C, A + B) else r"\geq"
    ax.set_title(f"{title}\n$C = {C:.2f} {relation} A + B = {A:.2f} + {B:.2f}$")
    ax.set_aspect("equal")
    ax.axis("off")
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=2,
        fontsize="small",
        frameon=False,
    )


fig, (left, right) = plt.subplots(1, 2, figsize=(10, 5), layout="constrained")

# A convex set V_s and its projection.
vertices = np.array(
    [[0.0, 0.0], [3.0, -0.6], [4.2, 1.2], [3.4, 3.0], [0.6, 2.6]]
)
left.add_patch(Polygon(vertices, alpha=0.15, color="tab:green", label="$V_s$"))
f_weak = np.array([1.6, 4.4])
draw(
    left,
    f_weak,
    project_onto_polygon(f_weak, vertices),
    np.array([3.2, 0.4]),
    "Convex set: the projection's angle is obtuse",
)

# A linear space V_s (a line through the origin): orthogonal projection.
direction = np.array([1.0, 0.35]) / np.linalg.norm([1.0, 0.35])
right.plot(
    *np.transpose([-1 * direction, 6 * direction]),
    color="tab:green",
    alpha=0.4,
    linewidth=6,
    label="$V_s$",
)
f_weak = np.array([2.0, 3.0])
f_sw = np.dot(f_weak, direction) * direction
draw(right, f_weak, f_sw, 0.3 * direction, "Linear space: the angle is right")
plt.show()

# %%
# The numbers
# -----------
# The same holds for real predictors, with the mean over a sample as the
# distance: on the sample the strong head was fitted on, an *exact* head is
# exactly this projection. The truth below is a linear function of the
# strong features with non-negative coefficients, so it lies in both the
# linear space of :class:`~skwtsg.heads.LeastSquaresHead` and the convex cone
# of :class:`~skwtsg.heads.NonNegativeLeastSquaresHead`. The weak model sees
# only a noisy, partial view of the features.
from skwtsg import WeakToStrongRegressor
from skwtsg.heads import LeastSquaresHead, NonNegativeLeastSquaresHead
from skwtsg.plot import GainMisfitDisplay

rng = np.random.RandomState(0)
n_rows, n_features, n_tasks = 3000, 10, 30
X = rng.uniform(size=(3 * n_rows, n_features))
Y = X @ rng.exponential(size=(n_features, n_tasks))  # coefficients >= 0
roles = np.repeat(["weak", "strong", "eval"], n_rows)
strong_rows, eval_rows = roles == "strong", roles == "eval"

# The weak model: least squares on four noisy features.
X_weak = np.hstack(
    [
        X[:, :4] + 0.3 * rng.normal(size=(3 * n_rows, 4)),
        np.zeros((3 * n_rows, n_features - 4)),
    ]
)
X_both = np.hstack([X, X_weak])


def columns(X, start, stop):
    return X[:, start:stop]


from sklearn.preprocessing import FunctionTransformer

weak = FunctionTransformer(columns, kw_args={"start": n_features, "stop": None})
strong = FunctionTransformer(columns, kw_args={"start": 0, "stop": n_features})
heads = {
    "least squares (linear space)": LeastSquaresHead(),
    "non-negative (convex cone)": NonNegativeLeastSquaresHead(),
}
models = [
    WeakToStrongRegressor(
        weak, strong, head=head, weak_head=LeastSquaresHead()
    ).fit(X_both, Y, roles=roles)
    for head in heads.values()
]

# %%
# On the strong head's training rows the slack of Theorem 1, gain − misfit,
# is zero to rounding for least squares, and non-negative for the cone.
display = GainMisfitDisplay.from_estimator(
    models,
    X_both[strong_rows],
    Y[strong_rows],
    labels=list(heads),
    kind="slack_vs_misfit",
)
display.ax_.set_title("On the strong head's training sample")
plt.show()

for name, model in zip(heads, models):
    slack = model.train_report_["gain"] - model.train_report_["misfit"]
    print(f"{name:30s} slack: min {slack.min():+.2e}, max {slack.max():+.2e}")

# %%
# On held-out rows the identities hold up to the finite-sample terms of
# Theorem 2 (the strong head saw 3000 weakly labelled rows, and fitted a
# little of the weak model's noise with them): the points scatter closely
# around *gain = misfit*.
display = GainMisfitDisplay.from_estimator(
    models, X_both[eval_rows], Y[eval_rows], labels=list(heads)
)
display.ax_.set_title("On held-out rows")
plt.show()
