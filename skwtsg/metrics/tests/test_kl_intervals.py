"""Paired bootstrap intervals of the classification report and its PGRs."""

import numpy as np
import pytest
from scipy.stats import norm

from skwtsg.metrics import weak_to_strong_classification_report

#: Population accuracies of the weak, weakly-supervised and ceiling models,
#: and the probability each gives the class it picks.
ACCURACY = np.array([0.62, 0.72, 0.82])
CONFIDENCE = np.array([0.65, 0.75, 0.85])


def _population(rng, n, accuracy=ACCURACY):
    """Labels and the three models' probabilities on ``n`` rows.

    Whether a model is right on a row is a Gaussian threshold with a shared
    factor (correlation 0.36 between models: hard rows are hard for all), so
    that resampling the three models together matters. The population's
    accuracies, log-losses and PGRs are known exactly.
    """
    z = 0.6 * rng.normal(size=(n, 1)) + 0.8 * rng.normal(size=(n, 3))
    right = z < norm.ppf(accuracy)
    y = rng.randint(2, size=n)
    probas = []
    for k in range(3):
        p1 = np.where(right[:, k] == (y == 1), CONFIDENCE[k], 1 - CONFIDENCE[k])
        probas.append(np.column_stack([1 - p1, p1]))
    return y, probas


def _true_pgrs():
    a, c = ACCURACY, CONFIDENCE
    log_loss = -(a * np.log(c) + (1 - a) * np.log(1 - c))
    return {
        "accuracy_pgr": (a[1] - a[0]) / (a[2] - a[0]),
        "pgr": (log_loss[0] - log_loss[1]) / (log_loss[0] - log_loss[2]),
    }


def _report(y, probas, **kw):
    P_w, P_s, P_c = probas
    kw.setdefault("confidence_level", 0.95)
    return weak_to_strong_classification_report(y, P_w, P_s, p_ceiling=P_c, **kw)


def test_pgr_intervals_cover_the_population_value():
    """95% intervals of both PGRs cover the population's in 92-98% of 400
    evaluation samples of 300 rows (Monte-Carlo standard error 0.011); an
    unstable PGR's interval, (-inf, inf), covers, and is rare here."""
    truth = _true_pgrs()
    rng = np.random.RandomState(0)
    covered = {name: 0 for name in truth}
    unstable = {name: 0 for name in truth}
    n_samples = 400
    for seed in range(n_samples):
        rep = _report(*_population(rng, 300), n_resamples=999, random_state=seed)
        for name, value in truth.items():
            low, high = rep[name + "_ci"]
            covered[name] += low <= value <= high
            unstable[name] += rep[name + "_unstable"]
    for name, count in covered.items():
        assert 0.92 <= count / n_samples <= 0.98, (name, count / n_samples)
        assert unstable[name] <= 0.02 * n_samples


def test_percentile_pgr_interval_is_the_paired_bootstrap():
    """The percentile interval equals a direct paired bootstrap: the same rows
    for the three models, the ratio recomputed on every resample (the same
    draws as scipy.stats.bootstrap for the same Generator)."""
    rng = np.random.RandomState(1)
    y, probas = _population(rng, 200)
    rep = _report(y, probas, n_resamples=2000, method="percentile", random_state=3)
    right = np.column_stack([P.argmax(axis=1) == y for P in probas]).astype(float)
    index = np.random.default_rng(3).integers(0, 200, size=(2000, 200), dtype=np.int32)
    acc = right[index].mean(axis=1)  # (resamples, 3 models)
    ratio = (acc[:, 1] - acc[:, 0]) / (acc[:, 2] - acc[:, 0])
    expected = np.percentile(ratio, [2.5, 97.5])
    np.testing.assert_allclose(rep["accuracy_pgr_ci"], expected, rtol=1e-5)
    gap = np.percentile(acc[:, 2] - acc[:, 0], [2.5, 97.5])
    np.testing.assert_allclose(rep["accuracy_pgr_gap_ci"], gap, rtol=1e-5)


def test_every_entry_has_an_interval_around_it():
    y, probas = _population(np.random.RandomState(2), 300)
    rep = _report(y, probas, n_resamples=999, random_state=0)
    plain = _report(y, probas, confidence_level=None)
    for name, value in plain.items():
        assert rep[name] == value
        low, high = rep[name + "_ci"]
        assert low <= value <= high, name
    for name in ("pgr", "accuracy_pgr"):
        assert rep[name + "_message"] is None
        assert rep[name + "_gap_ci"][0] > 0
    assert rep["accuracy_pgr_gap"] == pytest.approx(
        plain["ceiling_accuracy"] - plain["weak_accuracy"]
    )
    assert rep["pgr_gap"] == pytest.approx(plain["weak_error"] - plain["ceiling_error"])


def test_gap_whose_interval_contains_zero_is_flagged():
    # The ceiling is barely more accurate than the weak model: on 150 rows
    # the gap is within noise, and the ratio must not be offered as a number.
    accuracy = np.array([0.70, 0.72, 0.70])
    y, probas = _population(np.random.RandomState(0), 150, accuracy)
    rep = _report(y, probas, n_resamples=999, random_state=0)
    low, high = rep["accuracy_pgr_gap_ci"]
    assert low < 0 < high
    assert rep["accuracy_pgr_unstable"] is True
    assert rep["accuracy_pgr_ci"] == (-np.inf, np.inf)
    assert "accuracy_pgr is unstable" in rep["accuracy_pgr_message"]
    assert "contains 0" in rep["accuracy_pgr_message"]


def test_zero_gap_is_unstable_not_an_error_with_intervals():
    y, (P_w, P_s, _) = _population(np.random.RandomState(0), 100)
    with pytest.raises(ValueError, match="no gap to recover"):
        weak_to_strong_classification_report(y, P_w, P_s, p_ceiling=P_w)
    rep = weak_to_strong_classification_report(
        y, P_w, P_s, p_ceiling=P_w, confidence_level=0.9, n_resamples=99
    )
    for name in ("pgr", "accuracy_pgr"):
        assert np.isnan(rep[name]) and rep[name + "_unstable"]
        assert rep[name + "_gap_ci"] == (0.0, 0.0)


def test_probability_truth_has_the_kl_pgr_only():
    y, (P_w, P_s, P_c) = _population(np.random.RandomState(0), 200)
    truth = 0.9 * np.eye(2)[y] + 0.05
    rep = weak_to_strong_classification_report(
        truth, P_w, P_s, p_ceiling=P_c, confidence_level=0.95, random_state=0
    )
    assert "accuracy_pgr_ci" not in rep and "pgr_ci" in rep
    assert rep["pgr_ci"][0] <= rep["pgr"] <= rep["pgr_ci"][1]


def test_sample_weights():
    y, probas = _population(np.random.RandomState(4), 120)
    kw = dict(n_resamples=499, random_state=0)
    base = _report(y, probas, **kw)
    assert _report(y, probas, sample_weight=np.ones(120), **kw) == base
    # Zero-weight rows are left out, as if absent.
    w = np.ones(120)
    w[:20] = 0
    cut = _report(y[20:], [P[20:] for P in probas], **kw)
    _assert_same_report(_report(y, probas, sample_weight=w, **kw), cut)
    # Weights move the point values as repeated rows would.
    w = np.arange(120) % 3 + 1.0
    rep = _report(y, probas, sample_weight=w, **kw)
    rows = np.repeat(np.arange(120), w.astype(int))
    repeated = _report(y[rows], [P[rows] for P in probas], confidence_level=None)
    for name, value in repeated.items():
        assert rep[name] == pytest.approx(value)
        assert rep[name + "_ci"][0] <= rep[name] <= rep[name + "_ci"][1]


def _assert_same_report(a, b):
    assert a.keys() == b.keys()
    for name, value in a.items():
        if isinstance(value, (float, tuple)):
            np.testing.assert_allclose(value, b[name], rtol=1e-9, err_msg=name)
        else:
            assert value == b[name], name


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(confidence_level=1.5), "confidence_level"),
        (dict(confidence_level=True), "confidence_level"),
        (dict(n_resamples=0), "n_resamples"),
        (dict(method="bootstrap"), "method"),
        (dict(random_state="seed"), "random_state"),
        (dict(sample_weight=np.r_[1.0, np.zeros(59)]), "at least 2 rows"),
        (dict(sample_weight=np.r_[-1.0, np.ones(59)]), "negative"),
        (dict(sample_weight=np.r_[np.nan, np.ones(59)]), "sample_weight"),
    ],
)
def test_bad_inputs(kwargs, match):
    y, probas = _population(np.random.RandomState(0), 60)
    with pytest.raises(ValueError, match=match):
        _report(y, probas, **kwargs)


def test_ceiling_with_other_rows_is_refused():
    y, (P_w, P_s, P_c) = _population(np.random.RandomState(0), 60)
    with pytest.raises(ValueError, match="p_ceiling"):
        weak_to_strong_classification_report(
            y, P_w, P_s, p_ceiling=P_c[:-1], confidence_level=0.95
        )


def test_a_gap_of_rounding_is_none_for_every_pgr():
    """A ceiling a rounding error away from the weak model (1e-13 on one row)
    has no gap, by the one rule of every PGR: the report refuses it without
    intervals and flags it with them, as the regression PGR refuses it (a
    ratio over such a gap was any number, e.g. 1e12)."""
    from skwtsg._diagnostics import _recovered
    from skwtsg.metrics import performance_gap_recovered

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=40)
    p_weak = np.clip(rng.uniform(0.2, 0.8, size=(40, 1)), 0, 1)
    p_weak = np.hstack([1 - p_weak, p_weak])
    p_strong = np.roll(p_weak, 1, axis=0)
    p_ceiling = p_weak.copy()
    p_ceiling[0] += [1e-13, -1e-13]
    with pytest.raises(ValueError, match="no gap"):
        weak_to_strong_classification_report(y, p_weak, p_strong, p_ceiling=p_ceiling)
    report = weak_to_strong_classification_report(
        y,
        p_weak,
        p_strong,
        p_ceiling=p_ceiling,
        confidence_level=0.9,
        n_resamples=99,
        random_state=0,
    )
    assert np.isnan(report["pgr"]) and report["pgr_unstable"]
    assert np.isnan(_recovered(0.5, 0.4, 0.5 + 1e-15))
    with pytest.raises(ValueError, match="no gap"):
        performance_gap_recovered(
            [0.0, 1.0], [1.0, 2.0], [0.5, 1.5], [1.0, 2.0 + 1e-14]
        )
