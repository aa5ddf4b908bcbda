"""Property tests of Theorems 1 and 2 (Charikar et al., 2024) for the exact heads.

Every head of :mod:`skwtsg.heads` fits the (weighted) least-squares projection
``ŷ`` of the weak labels ``y_w`` onto a convex set ``V`` of prediction vectors
on the training sample (``V = {f(z_i)}_i, f ∈ F_s``). With ``d(a, b)`` the
weighted mean squared distance on that sample, the Pythagorean inequality for
projections onto convex sets gives, for every target ``y*`` in ``V``::

    d(y_w, y*) >= d(ŷ, y*) + d(ŷ, y_w)                         (Theorem 1)

with equality when ``V`` is a subspace (:class:`LeastSquaresHead`).

For a target outside ``V`` (Theorem 2 without the sampling terms, since all
distances are taken on the training sample) take any ``p ∈ V`` and
``ε = d(p, y*)``. Write ``F = d(y_w, y*)``, ``I = d(ŷ, y_w)``,
``G = d(ŷ, y*)``. Theorem 1 applied to ``p`` and the triangle inequality for
``√d`` (Claim 5 of the paper) give::

    d(ŷ, p) <= d(y_w, p) - I <= (√F + √ε)² - I,
    √G <= √d(ŷ, p) + √ε <= √max(0, (√F + √ε)² - I) + √ε,       (a)

and, squaring (a) and using ``d(ŷ, p) <= (√F + √ε)²``::

    G <= F - I + 4 √(ε F) + 4 ε,                                (b)

i.e. ``err(strong) <= err(weak) - misfit + O(√ε)``. Both (a) and (b) hold
deterministically for every ``y*`` and every ``p ∈ V``; they are tested with
``p`` drawn inside ``V`` and ``y* = p + δ`` for an arbitrary ``δ``.

Designs include columns scaled by 500, means up to 10 times the scale,
near-collinear columns (to 1e-4) and exact duplicates; weights include
zeros. Tolerances are 1e-9 relative to ``d(y_w, y*)`` (to ``(√F + √ε)²`` in
the non-realizable case).
"""

import numpy as np
import pytest

pytest.importorskip("hypothesis")

from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as npst  # noqa: E402

from skwtsg.heads import (  # noqa: E402
    BallLeastSquaresHead,
    IsotonicHead,
    LeastSquaresHead,
    NonNegativeLeastSquaresHead,
    RidgeHead,
)

RTOL = 1e-9
#: Shares of the profile's examples: ten head-fitting tests at a quarter, the
#: ridge optimality condition at a half.
COSTLY = settings(max_examples=max(10, settings.default.max_examples // 4))
HALF = settings(max_examples=max(10, settings.default.max_examples // 2))
HEADS = ["least_squares", "ridge", "nnls", "ball", "isotonic"]


def _grid(lo, hi):
    """Floats on a 1e-3 grid: ties and repeated columns, no denormal noise."""
    return st.floats(lo, hi, allow_nan=False).map(lambda v: round(v, 3))


def _dist(a, b, w):
    return np.average((a - b) ** 2, axis=0, weights=w)


def _draw_design(data, kind):
    """Strong features Z (n, d) and sample weights (or None)."""
    n = data.draw(st.integers(4, 40), label="n")
    d = 1 if kind == "isotonic" else data.draw(st.integers(1, 5), label="d")
    Z = data.draw(npst.arrays(np.float64, (n, d), elements=_grid(-3, 3)), label="Z")
    if d >= 2:
        structure = data.draw(
            st.sampled_from(["plain", "collinear", "duplicate"]), label="structure"
        )
        if structure == "collinear":
            eta = data.draw(st.sampled_from([1e-4, 1e-3, 1e-2]), label="eta")
            Z[:, 1] = data.draw(_grid(-3, 3), label="a") * Z[:, 0] + eta * Z[:, 1]
        elif structure == "duplicate":
            Z[:, -1] = data.draw(st.sampled_from([1.0, -2.5]), label="c") * Z[:, 0]
    scale = data.draw(
        npst.arrays(np.float64, d, elements=st.sampled_from([1.0, 500.0])),
        label="scale",
    )
    offset = data.draw(
        npst.arrays(np.float64, d, elements=st.sampled_from([0.0, 1.0, -10.0])),
        label="offset",
    )
    Z = (Z + offset) * scale
    w = None
    if data.draw(st.booleans(), label="weighted"):
        w = data.draw(npst.arrays(np.float64, n, elements=_grid(0, 3)), label="w")
        assume(w.sum() > 0)
    return Z, w


def _draw_linear(data, d, n_targets, nonnegative=False):
    b = data.draw(
        npst.arrays(np.float64, (d, n_targets), elements=_grid(-2, 2)), label="b"
    )
    c = data.draw(npst.arrays(np.float64, n_targets, elements=_grid(-5, 5)), label="c")
    return (np.abs(b) if nonnegative else b), c


def _draw_monotone(data, z, n_targets, increasing):
    """Monotone functions of the single feature: a z + b tanh(z) + c 1[z > t]."""
    zs = (z - z.mean()) / (z.std() + 1e-300)
    coefs = data.draw(
        npst.arrays(np.float64, (3, n_targets), elements=_grid(0, 3)), label="g"
    )
    t = data.draw(_grid(-1, 1), label="t")
    basis = np.column_stack([zs, np.tanh(zs), (zs > t).astype(float)])
    return (basis @ coefs) * (1.0 if increasing else -1.0)


def _draw_problem(data, kind):
    """Design, weights, weak labels, fitted head and a target inside its set."""
    Z, w = _draw_design(data, kind)
    n, d = Z.shape
    multi = data.draw(st.booleans(), label="multi_output")
    m = 2 if multi else 1
    increasing = data.draw(st.booleans(), label="increasing")
    # a signal inside the set sets the scale of the weak labels
    if kind == "isotonic":
        signal = _draw_monotone(data, Z[:, 0], m, increasing)
    else:
        b0, c0 = _draw_linear(data, d, m, nonnegative=kind == "nnls")
        signal = Z @ b0 + c0
    noise = data.draw(npst.arrays(np.float64, (n, m), elements=_grid(-3, 3)), label="e")
    ratio = data.draw(st.floats(0.01, 10.0), label="ratio")
    y_weak = data.draw(st.sampled_from([0.0, 1.0]), label="lam") * signal
    y_weak = y_weak + ratio * (signal.std(axis=0) + 1.0) * noise
    if not multi:
        y_weak, signal = y_weak[:, 0], signal[:, 0]

    if kind == "least_squares":
        head = LeastSquaresHead()
    elif kind == "nnls":
        head = NonNegativeLeastSquaresHead()
    elif kind == "isotonic":
        head = IsotonicHead(increasing=increasing)
    elif kind == "ridge":
        Zc = Z - np.average(Z, axis=0, weights=w)
        size = np.average(np.sum(Zc**2, axis=1), weights=w) * n / max(d, 1)
        u = data.draw(st.floats(-6, 2), label="log_alpha")
        head = RidgeHead(alpha=10**u * max(size, 1e-12))
    else:  # ball: a radius around the least-squares norm, active or not
        ls = LeastSquaresHead().fit(Z, y_weak, sample_weight=w)
        norm = np.linalg.norm(np.atleast_2d(ls.coef_), axis=1).max()
        u = data.draw(st.floats(-2, 0.5), label="log_radius")
        head = BallLeastSquaresHead(radius=10**u * max(norm, 1e-3))
    head.fit(Z, y_weak, sample_weight=w)
    assert head.kkt_residual_ <= 1e-8

    # the target: a function in the head's convex set
    if kind in ("least_squares", "nnls", "isotonic"):
        target = signal
    else:  # inside the l2 ball: radius(es) of the fit (ridge) or of the head
        b, c = _draw_linear(data, d, m)
        coef = np.atleast_2d(head.coef_).T
        radius = (
            np.linalg.norm(coef, axis=0) if kind == "ridge" else np.full(m, head.radius)
        )
        t = data.draw(npst.arrays(np.float64, m, elements=_grid(0, 1)), label="t")
        norms = np.linalg.norm(b, axis=0)
        b = np.where(norms > 0, b / np.where(norms > 0, norms, 1.0), 0.0) * (t * radius)
        target = Z @ b + c
        if not multi:
            target = target[:, 0]
    return Z, w, y_weak, head, target


@pytest.mark.parametrize("kind", HEADS)
@COSTLY
@given(data=st.data())
def test_pythagorean_inequality(kind, data):
    """Theorem 1 on the training sample: err(strong) <= err(weak) - misfit."""
    Z, w, y_weak, head, y_star = _draw_problem(data, kind)
    y_hat = head.predict(Z)
    err_weak = _dist(y_weak, y_star, w)
    scale = _dist(y_weak, 0.0, w) + _dist(y_star, 0.0, w)
    assume(np.all(err_weak >= 1e-4 * scale))  # weak labels not equal to the target
    # slack F - G - I, computed as 2 <ŷ - y*, y_w - ŷ> (no cancellation)
    gap = 2.0 * np.average((y_hat - y_star) * (y_weak - y_hat), axis=0, weights=w)
    assert np.all(gap >= -RTOL * err_weak), (gap / err_weak, head)
    if kind == "least_squares":
        assert np.all(np.abs(gap) <= RTOL * err_weak), (gap / err_weak, head)
        # the three distances themselves, as the theorem states them
        err_strong, misfit = _dist(y_hat, y_star, w), _dist(y_hat, y_weak, w)
        np.testing.assert_allclose(err_strong + misfit, err_weak, rtol=1e-8, atol=0)


@pytest.mark.parametrize("kind", HEADS)
@COSTLY
@given(data=st.data())
def test_non_realizable_bound(kind, data):
    """Theorem 2's deterministic core, for a target outside the set (see (a), (b))."""
    Z, w, y_weak, head, p = _draw_problem(data, kind)
    delta = data.draw(npst.arrays(np.float64, p.shape, elements=_grid(-3, 3)))
    size = data.draw(st.floats(0.0, 2.0), label="size")
    y_star = p + size * (np.sqrt(_dist(p, 0.0, w)) + 1.0) * delta
    y_hat = head.predict(Z)
    err_weak = _dist(y_weak, y_star, w)  # F
    misfit = _dist(y_hat, y_weak, w)  # I
    err_strong = _dist(y_hat, y_star, w)  # G
    eps = _dist(p, y_star, w)
    scale = (np.sqrt(err_weak) + np.sqrt(eps)) ** 2
    assume(np.all(scale >= 1e-4 * (_dist(y_weak, 0.0, w) + _dist(y_star, 0.0, w))))
    tol = RTOL * scale
    bound_a = np.sqrt(np.maximum(0.0, scale - misfit)) + np.sqrt(eps)
    assert np.all(np.sqrt(err_strong) <= bound_a + np.sqrt(tol)), (
        err_strong,
        bound_a**2,
        head,
    )
    bound_b = err_weak - misfit + 4.0 * np.sqrt(eps * err_weak) + 4.0 * eps
    assert np.all(err_strong <= bound_b + tol), (err_strong, bound_b, head)


@pytest.mark.parametrize("solver", ["auto", "qr"])
@HALF
@given(data=st.data())
def test_ridge_optimality_condition(solver, data):
    """The gradient of ``Σ w (y - Zb - c)² + α‖b‖²`` vanishes at the fit.

    A projection test cannot see the penalty's size (any ridge fit projects
    onto its own ball); this one recomputes the residuals from ``coef_`` and
    ``intercept_`` and checks ``Σ w r = 0`` and ``Zᵀ(w r) = α b``, so a
    doubled or halved penalty fails.
    """
    Z, w = _draw_design(data, "ridge")
    n, d = Z.shape
    m = data.draw(st.sampled_from([1, 2]), label="m")
    b0, c0 = _draw_linear(data, d, m)
    noise = data.draw(npst.arrays(np.float64, (n, m), elements=_grid(-3, 3)), label="e")
    y = Z @ b0 + c0 + noise
    ww = np.ones(n) if w is None else w
    Zc = Z - np.average(Z, axis=0, weights=ww)
    size = np.sum(ww[:, None] * Zc**2) / max(d, 1)
    alpha = 10 ** data.draw(st.floats(-3, 2), label="log_alpha") * max(size, 1e-12)
    head = RidgeHead(alpha=alpha, solver=solver).fit(Z, y, sample_weight=w)
    coef = np.asarray(head.coef_).reshape(m, d).T
    residual = y - Z @ coef - np.ravel(head.intercept_)
    wr = ww[:, None] * residual
    # scale of each gradient entry: Cauchy-Schwarz at b = 0 (as kkt_residual_)
    col = np.sqrt(np.sum(ww[:, None] * Zc**2, axis=0))
    yc = y - np.average(y, axis=0, weights=ww)
    target = np.sqrt(np.sum(ww[:, None] * yc**2, axis=0))
    scale = np.outer(col, target) + alpha * np.abs(coef)
    grad = Zc.T @ wr - alpha * coef
    assert np.all(np.abs(grad) <= 1e-7 * scale + 1e-300), (grad, scale)
    # the intercept's condition, against the sum of the absolute terms
    assert np.all(np.abs(wr.sum(axis=0)) <= 1e-9 * np.abs(wr).sum(axis=0) + 1e-300)
