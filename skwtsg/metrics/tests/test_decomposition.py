"""Theorem 2's decomposition of gain - misfit: it adds up, for every head."""

import numpy as np
import pytest

from skwtsg.heads import (
    BallLeastSquaresHead,
    LeastSquaresHead,
    NonNegativeLeastSquaresHead,
    pythagorean_gap,
)
from skwtsg.metrics import (
    gain,
    gain_misfit_decomposition,
    least_squares_gap,
    misfit,
    weak_to_strong_report,
)

RTOL = 1e-9


def _problem(seed, n=300, d=6, n_tasks=3, collinear=1.0, spread=1.0, weighted=False):
    """Strong features, a truth outside their span and weak labels.

    ``collinear``: columns 0 and 1 differ by ``1/collinear`` (the condition
    number of the centred, column-scaled design grows with it); ``spread``:
    column scales from 1 to ``spread``; every column has mean ~1e3, so the
    intercept must be handled exactly.
    """
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    Z[:, 1] = Z[:, 0] + Z[:, 1] / collinear
    Z = Z * np.logspace(0, np.log10(spread), d) + 1e3
    y_star = Z @ rng.normal(size=(d, n_tasks)) / np.abs(Z).max()
    y_star += np.sin(3 * rng.normal(size=(n, 1)) + np.arange(n_tasks))  # not in span
    w = y_star + rng.normal(size=(n, n_tasks)) + 0.3 * y_star**2
    sw = rng.uniform(0.0, 2.0, size=n) if weighted else None
    return Z, y_star, w, sw


def _scale(y_star, w, sw):
    """The size of the quantities: the weak error of each task."""
    return np.atleast_1d(
        weak_to_strong_report(y_star, w, w, sample_weight=sw, multioutput="raw_values")[
            "weak_error"
        ]
    )


def _assert_adds_up(a, b, scale, rtol=RTOL):
    """|a - b| <= rtol * scale, task by task (scale: the weak error)."""
    err = np.abs(np.asarray(a) - np.asarray(b)) / scale
    assert np.all(err <= rtol), f"relative differences {err}"


# (seed, collinear, spread, weighted, fit_intercept): well-conditioned ones,
# then designs whose Gram matrix is too ill-conditioned for Cholesky (the
# head takes its QR path) and columns of scales 1 to 1e8.
CASES = [
    dict(seed=s, collinear=c, spread=sp, weighted=wt, fit_intercept=fi)
    for s, c, sp, wt, fi in [
        (0, 1.0, 1.0, False, True),
        (1, 1.0, 1.0, True, True),
        (2, 1.0, 1.0, True, False),
        (3, 1e3, 1e4, False, True),
        (4, 1e4, 1e8, True, True),
        (5, 1e4, 1.0, True, False),
        (6, 1.0, 1e8, True, True),
    ]
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: str(c))
def test_least_squares_gap_is_gain_minus_misfit(case):
    params = {k: case[k] for k in ("seed", "collinear", "spread", "weighted")}
    Z, y_star, w, sw = _problem(**params)
    head = LeastSquaresHead(fit_intercept=case["fit_intercept"])
    f = head.fit(Z, w, sample_weight=sw).predict(Z)
    p = (
        LeastSquaresHead(fit_intercept=case["fit_intercept"])
        .fit(Z, y_star, sample_weight=sw)
        .predict(Z)
    )
    kw = dict(sample_weight=sw, multioutput="raw_values")
    scale = _scale(y_star, w, sw)
    direct = gain(y_star, w, f, **kw) - misfit(w, f, **kw)
    ls = least_squares_gap(Z, y_star, w, fit_intercept=case["fit_intercept"], **kw)
    _assert_adds_up(ls, direct, scale)
    d = gain_misfit_decomposition(y_star, w, f, p, **kw)
    # the decomposition adds up, the projection term of a subspace is 0, and
    # the whole difference is the ε term, within its Cauchy-Schwarz bound
    _assert_adds_up(d["projection_term"] + d["epsilon_term"], d["gap"], scale)
    _assert_adds_up(d["projection_term"], 0.0, scale)
    _assert_adds_up(d["epsilon_term"], ls, scale)
    assert np.all(np.abs(d["epsilon_term"]) <= d["epsilon_bound"] * (1 + 1e-12))
    # the truth is not in the span here: the gap is really there
    assert np.all(np.abs(ls) > 1e-4 * scale)
    assert np.all(d["epsilon"] > 0)


def test_decomposition_adds_up_on_very_ill_conditioned_features():
    # condition ~1e8: the projection itself is only accurate to ~eps * 1e8,
    # but the decomposition is an identity and adds up whatever f and p are
    Z, y_star, w, sw = _problem(8, collinear=1e8, spread=1e8, weighted=True)
    f = LeastSquaresHead().fit(Z, w, sample_weight=sw).predict(Z)
    p = LeastSquaresHead().fit(Z, y_star, sample_weight=sw).predict(Z)
    d = gain_misfit_decomposition(
        y_star, w, f, p, sample_weight=sw, multioutput="raw_values"
    )
    _assert_adds_up(
        d["projection_term"] + d["epsilon_term"], d["gap"], _scale(y_star, w, sw)
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "head",
    [NonNegativeLeastSquaresHead(), BallLeastSquaresHead(radius=0.2)],
    ids=["nnls", "ball"],
)
def test_convex_heads_projection_term_is_nonnegative(head, seed):
    Z, y_star, w, sw = _problem(seed, n_tasks=1, weighted=seed % 2 == 1)
    y_star, w = y_star[:, 0], w[:, 0]
    f = head.fit(Z, w, sample_weight=sw).predict(Z)
    p = head.fit(Z, y_star, sample_weight=sw).predict(Z)
    d = gain_misfit_decomposition(y_star, w, f, p, sample_weight=sw)
    scale = _scale(y_star, w, sw)[0]
    assert d["gap"] == pytest.approx(
        d["projection_term"] + d["epsilon_term"], rel=0, abs=RTOL * scale
    )
    # the variational inequality of the projection onto a convex set
    assert d["projection_term"] >= -1e-8 * scale
    assert d["projection_term"] == pytest.approx(
        pythagorean_gap(w, f, p, sample_weight=sw), rel=1e-12, abs=1e-15
    )
    assert d["gap"] == pytest.approx(
        pythagorean_gap(w, f, y_star, sample_weight=sw), rel=0, abs=RTOL * scale
    )


def test_realizable_truth_has_no_epsilon():
    Z, _, w, _ = _problem(7)
    y_star = Z @ np.ones((Z.shape[1], 3)) + 2.0
    f = LeastSquaresHead().fit(Z, w).predict(Z)
    p = LeastSquaresHead().fit(Z, y_star).predict(Z)
    d = gain_misfit_decomposition(y_star, w, f, p, multioutput="raw_values")
    scale = _scale(y_star, w, None)
    assert np.all(d["epsilon"] <= 1e-20 * scale)
    assert np.all(np.abs(d["gap"]) <= RTOL * scale)
    assert np.all(
        np.abs(least_squares_gap(Z, y_star, w, multioutput="raw_values"))
        <= RTOL * scale
    )


def test_rank_deficient_features():
    Z, y_star, w, _ = _problem(8)
    Z = np.hstack([Z, Z[:, :2] + Z[:, 2:4], np.zeros((Z.shape[0], 1))])
    f = LeastSquaresHead().fit(Z, w).predict(Z)
    direct = gain(y_star, w, f, multioutput="raw_values") - misfit(
        w, f, multioutput="raw_values"
    )
    ls = least_squares_gap(Z, y_star, w, multioutput="raw_values")
    _assert_adds_up(ls, direct, _scale(y_star, w, None))


def test_multioutput_and_shapes():
    Z, y_star, w, _ = _problem(9)
    f, p = w * 0.5, y_star * 0.9
    raw = gain_misfit_decomposition(y_star, w, f, p, multioutput="raw_values")
    avg = gain_misfit_decomposition(y_star, w, f, p)
    weights = np.array([1.0, 0.0, 3.0])
    weighted = gain_misfit_decomposition(y_star, w, f, p, multioutput=weights)
    for key, values in raw.items():
        assert values.shape == (3,)
        assert avg[key] == pytest.approx(values.mean())
        assert weighted[key] == pytest.approx(np.average(values, weights=weights))
    one = gain_misfit_decomposition(y_star[:, 0], w[:, 0], f[:, 0], p[:, 0])
    assert isinstance(one["gap"], float)
    assert one["gap"] == pytest.approx(raw["gap"][0])
    assert least_squares_gap(Z, y_star[:, 0], w[:, 0]) == pytest.approx(
        least_squares_gap(Z, y_star, w, multioutput="raw_values")[0]
    )


def test_bad_input():
    y = np.zeros((5, 2))
    with pytest.raises(ValueError, match="`y_true` and `y_ceiling` must have the same"):
        gain_misfit_decomposition(y, y, y, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        gain_misfit_decomposition(y, y, y, np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="multioutput"):
        gain_misfit_decomposition(y, y, y, y, multioutput="sum")
    with pytest.raises(ValueError, match="zero on every row"):
        gain_misfit_decomposition(y, y, y, y, sample_weight=np.zeros(5))
    with pytest.raises(ValueError, match="2-D"):
        least_squares_gap(np.zeros(5), y, y)
    with pytest.raises(ValueError, match="same shape"):
        least_squares_gap(np.zeros((5, 1)), y, y[:, 0])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        least_squares_gap(np.zeros((4, 1)), y, y)
    with pytest.raises(ValueError, match="must be real"):
        gain_misfit_decomposition(y, y, y, y + 1j)
