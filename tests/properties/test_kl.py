"""Property tests of the KL identity for the exact softmax head.

The strong head ``p_sw = softmax(W h + b)`` is fitted by cross-entropy on the
weak model's probabilities ``p_w``. On its (weighted) training sample, for a
truth ``p* = softmax(W* h + b*)`` realizable by the head (see
docs/user_guide/theory.rst, "Classification: the KL identity")::

    KL(p_w ‖ p*) - KL(p_w ‖ p_sw) - KL(p_sw ‖ p*)
        = Σ_i w_i <p_w,i - p_sw,i, log p_sw,i - log p*_i>
        = α <Ŵ, Ŵ - W*>                                   (ℓ2 penalty α)

which is 0 for the unconstrained head (α = 0: gain = misfit) and ``>= 0``
whenever ``‖W*‖ <= ‖Ŵ‖`` (class-centred Frobenius norms): the penalised fit
is the KL projection onto the convex ball of radius ``‖Ŵ‖``, the truth lies
in it, and Cauchy-Schwarz gives ``<Ŵ, W*> <= ‖Ŵ‖²``.

Designs include columns scaled by 500, means up to 10 times the scale,
near-collinear columns (to 1e-4) and exact duplicates; weights include
zeros. Every number is drawn by hypothesis (no seeded generator), so a
failure shrinks to a small design. Tolerance: 1e-8 relative to ``KL(p_w ‖ p*)``.
"""

import numpy as np
import pytest

pytest.importorskip("hypothesis")

from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as npst  # noqa: E402
from scipy.special import softmax  # noqa: E402

from skwtsg.heads import SoftmaxHead  # noqa: E402
from skwtsg.metrics import kl_error, kl_misfit  # noqa: E402

RTOL = 1e-8


#: Each example fits softmax heads: a quarter of the profile's examples.
COSTLY = settings(max_examples=max(10, settings.default.max_examples // 4))


def _grid(lo, hi):
    """Floats on a 1e-3 grid: ties and zeros, no denormal scale the head refuses."""
    return st.floats(lo, hi, allow_nan=False).map(lambda v: round(v, 3))


def _array(data, shape, low, high, label):
    """A float array drawn element by element: hypothesis can shrink it."""
    elements = _grid(low, high)
    return data.draw(npst.arrays(np.float64, shape, elements=elements), label=label)


def _draw_design(data):
    n = data.draw(st.integers(20, 200), label="n")
    d = data.draw(st.integers(1, 5), label="d")
    Z = _array(data, (n, d), -3.0, 3.0, "Z")
    if d >= 2:
        structure = data.draw(
            st.sampled_from(["plain", "collinear", "duplicate"]), label="structure"
        )
        if structure == "collinear":
            eta = data.draw(st.sampled_from([1e-4, 1e-3, 1e-2]), label="eta")
            slope = data.draw(_grid(-2.0, 2.0), label="a")
            Z[:, 1] = slope * Z[:, 0] + eta * Z[:, 1]
        elif structure == "duplicate":
            Z[:, -1] = data.draw(st.sampled_from([1.0, -2.5]), label="c") * Z[:, 0]
    scale = np.array(
        data.draw(st.lists(st.sampled_from([1.0, 500.0]), min_size=d, max_size=d))
    )
    offset = np.array(
        data.draw(st.lists(st.sampled_from([0.0, 1.0, -10.0]), min_size=d, max_size=d))
    )
    Z_raw = Z
    Z = (Z + offset) * scale
    w = None
    if data.draw(st.booleans(), label="weighted"):
        w = data.draw(
            npst.arrays(np.float64, (n,), elements=st.integers(0, 3)), label="w"
        )
        assume(w.sum() > 0)
    return Z_raw, Z, w


def _draw_problem(data):
    Z_raw, Z, w = _draw_design(data)
    n, d = Z.shape
    k = data.draw(st.integers(2, 5), label="n_classes")
    # The truth: affine logits in the (standardised) features.
    size = data.draw(st.sampled_from([0.3, 1.0, 3.0]), label="truth_scale")
    coef = _array(data, (d, k), -2.0, 2.0, "truth_coef")
    intercept = _array(data, (k,), -2.0, 2.0, "truth_intercept")
    logits_star = size * Z_raw @ coef + intercept
    p_star = softmax(logits_star, axis=1)
    # The weak labels: the truth perturbed, another model, or near-hard labels.
    kind = data.draw(st.sampled_from(["noisy", "other", "near_hard"]), label="weak")
    if kind == "noisy":
        noise = data.draw(st.sampled_from([0.3, 1.0, 3.0]), label="noise")
        p_w = softmax(logits_star + noise * _array(data, (n, k), -3, 3, "e"), axis=1)
    elif kind == "other":
        p_w = _array(data, (n, k), 0.0, 1.0, "other")
        p_w = 0.99 * p_w / np.maximum(p_w.sum(axis=1, keepdims=True), 1e-300)
        p_w[p_w.sum(axis=1) == 0] = 0.99 / k
        p_w = p_w + 0.01 / k
    else:
        # a class per row drawn from p* by its inverse CDF at a drawn uniform
        u = _array(data, (n, 1), 0.0, 1.0, "u")
        y = np.minimum((np.cumsum(p_star, axis=1) < u).sum(axis=1), k - 1)
        eps = data.draw(st.sampled_from([0.02, 0.2]), label="eps")
        p_w = np.full((n, k), eps / k)
        p_w[np.arange(n), y] += 1.0 - eps
    return Z, w, p_w, p_star


def _kl_terms(p_w, p_sw, p_star, w):
    weak = kl_error(p_star, p_w, sample_weight=w)  # KL(p_w ‖ p*)
    misfit = kl_misfit(p_w, p_sw, sample_weight=w)  # KL(p_w ‖ p_sw)
    strong = kl_error(p_star, p_sw, sample_weight=w)  # KL(p_sw ‖ p*)
    return weak, misfit, strong


@COSTLY
@given(data=st.data())
def test_kl_identity_unconstrained(data):
    """gain = misfit exactly on the training sample: the KL identity."""
    Z, w, p_w, p_star = _draw_problem(data)
    head = SoftmaxHead().fit(Z, p_w, sample_weight=w)
    assert head.kkt_residual_ <= 1e-8
    p_sw = head.predict_proba(Z)
    weak, misfit, strong = _kl_terms(p_w, p_sw, p_star, w)
    assume(weak >= 1e-6)  # the weak labels are not the truth itself
    assert abs(weak - misfit - strong) <= RTOL * weak, (weak, misfit, strong)


def _centred_coef(Z, p, w):
    """The truth's class-centred coefficients, recovered by an exact fit."""
    return SoftmaxHead().fit(Z, p, sample_weight=w).coef_


@COSTLY
@given(data=st.data())
def test_kl_penalised_identity_and_ball_inequality(data):
    """With a penalty: gap = α<Ŵ, Ŵ - W*>, and >= 0 for truths in its ball."""
    Z, w, p_w, p_star = _draw_problem(data)
    n, d = Z.shape
    Zc = Z - np.average(Z, axis=0, weights=w)
    var = np.average(np.sum(Zc**2, axis=1), weights=w) / d
    alpha = 10 ** data.draw(st.floats(-4, 1), label="log_alpha") * var
    head = SoftmaxHead(alpha=alpha).fit(Z, p_w, sample_weight=w)
    assert head.kkt_residual_ <= 1e-8
    p_sw = head.predict_proba(Z)
    W_hat = head.coef_
    radius = np.linalg.norm(W_hat)
    assume(radius > 0)
    # A truth inside the ball ‖W*‖ <= ‖Ŵ‖: a shrunk copy of a realizable one.
    W_dir = _centred_coef(Z, p_star, w)
    t = data.draw(st.floats(0.0, 1.0), label="t")
    W_star = W_dir * (t * radius / max(np.linalg.norm(W_dir), 1e-300))
    b_star = np.log(p_star[0]) - np.log(p_star[0]).mean()  # any intercept
    p_star = softmax(Z @ W_star.T + b_star, axis=1)
    weak, misfit, strong = _kl_terms(p_w, p_sw, p_star, w)
    assume(weak >= 1e-6)
    gap = weak - misfit - strong
    predicted = alpha * float(np.sum(W_hat * (W_hat - W_star)))
    assert abs(gap - predicted) <= RTOL * weak, (gap, predicted, weak)
    assert gap >= -RTOL * weak, (gap, weak)


def test_other_orientation_does_not_hold():
    """KL(p* ‖ p_w) = KL(p* ‖ p_sw) + KL(p_sw ‖ p_w) is false: a counterexample."""
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(500, 4))
    p_star = softmax(Z @ rng.normal(size=(4, 3)), axis=1)
    p_w = softmax(np.log(p_star) + 1.5 * rng.normal(size=p_star.shape), axis=1)
    p_sw = SoftmaxHead().fit(Z, p_w).predict_proba(Z)
    forward = _kl_terms(p_w, p_sw, p_star, None)
    assert abs(forward[0] - forward[1] - forward[2]) <= RTOL * forward[0]
    reverse_weak = kl_misfit(p_star, p_w)  # KL(p* ‖ p_w)
    reverse_sum = kl_misfit(p_star, p_sw) + kl_misfit(p_sw, p_w)
    assert abs(reverse_weak - reverse_sum) > 0.05 * reverse_weak
