"""Tests of the essay-scoring experiment's cases (ELLIPSE, appendix C.1).

The encoder here is a tiny 8-layer BERT built in the test (random weights):
the cases' structure, caching and wiring do not depend on the model, and no
test embeds the essays with all-mpnet-base-v2 (minutes on a CPU).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator

from skwtsg.datasets._essays import ELLIPSE_FILE, ELLIPSE_RUBRICS, fetch_ellipse
from skwtsg.experiments._case import ROLES, W2SCase
from skwtsg.experiments._essays import (
    default_embedding_cache,
    essay_conclusion,
    make_essay_cases,
    split_essays,
    tfidf_svd_family,
)
from skwtsg.featurizers import TransformerHiddenStateFeaturizer
from skwtsg.featurizers._text import SentenceTransformerFeaturizer, TfidfSVDFeaturizer
from skwtsg.heads import RidgeLOOHead
from skwtsg.tests._shared_data import data_mark, shared_data_home

DATA_HOME = shared_data_home(ELLIPSE_FILE.filename)
pytestmark = data_mark(ELLIPSE_FILE.filename)


@pytest.fixture(scope="module")
def essays():
    return fetch_ellipse(data_home=DATA_HOME)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("transformers")
    from skwtsg.tests._tiny_models import make_tiny_bert

    return make_tiny_bert(tmp_path_factory.mktemp("tiny8"), n_layers=8)


@pytest.fixture(scope="module")
def quick_cases(tiny, tmp_path_factory):
    cache = tmp_path_factory.mktemp("emb")
    cases = make_essay_cases(
        data_home=DATA_HOME,
        model=tiny,
        cache_dir=cache,
        quick=True,
        n_essays=40,
        minilm=False,
    )
    return cases, cache


def test_quick_cases_structure(quick_cases, essays, tiny):
    cases, cache = quick_cases
    assert len(cases) == 3
    assert [c.name for c in cases] == [f"ELLIPSE-quick split {i}" for i in range(3)]
    for case in cases:
        assert isinstance(case, W2SCase) and case.group == "ELLIPSE"
        assert case.X.shape == (40, 1) and case.X.dtype == object
        assert case.y.shape == (40, 6) and case.y.dtype == np.float64
        assert case.task_names == list(ELLIPSE_RUBRICS)
        assert set(case.roles) <= set(ROLES)
        assert (case.roles == "both").sum() == 28 and (case.roles == "eval").sum() == 12
        assert list(case.weak_featurizers) == [
            f"{tiny.name} layer=0",
            f"{tiny.name} layer=1",
            f"{tiny.name} layer=2",
            f"{tiny.name} layer=4",
            "tfidf-svd k=8",
            "tfidf-svd k=16",
        ]
        for label, weak in case.weak_featurizers.items():
            if label.startswith("tfidf"):
                # fitted once per split on its training essays, then frozen
                assert isinstance(weak, FrozenEstimator)
                assert isinstance(weak.estimator, TfidfSVDFeaturizer)
                assert weak.estimator.n_components == int(label.split("=")[1])
            else:
                assert isinstance(weak, TransformerHiddenStateFeaturizer)
                assert weak.layer == int(label[-1]) and weak.max_length == 128
        strong = case.strong_featurizer
        assert isinstance(strong, TransformerHiddenStateFeaturizer)
        assert strong.layer == 8 and strong.cache_dir == cache
        # Both heads: exact ridge, alpha by leave-one-out, one per rubric.
        for head in (case.head, case.weak_head):
            assert isinstance(head, RidgeLOOHead) and head.alpha_per_target
        rows = np.array(case.meta["rows"])
        np.testing.assert_array_equal(case.X[:, 0], essays.data[rows])
        np.testing.assert_array_equal(case.y, essays.target[rows, 1:])
    # Three different random splits of the same essays.
    assert not np.array_equal(cases[0].roles, cases[1].roles)
    np.testing.assert_array_equal(cases[0].X, cases[2].X)


def test_shared_tfidf_svd_fit_gives_the_per_width_results(quick_cases):
    """One TF-IDF + SVD fit per split, truncated, equals one fit per width."""
    from dataclasses import replace

    from skwtsg.experiments import run_cases

    cases, _ = quick_cases
    shared, refit = [], []
    for case in cases[:2]:
        tfidf = {k: w for k, w in case.weak_featurizers.items() if "tfidf" in k}
        shared.append(replace(case, weak_featurizers=tfidf))
        each = {k: TfidfSVDFeaturizer(int(k.split("=")[1])) for k in tfidf}
        refit.append(replace(case, weak_featurizers=each))
    a, b = run_cases(shared), run_cases(refit)
    seconds = ["fit_seconds", "ceiling_seconds"]
    numbers = a.select_dtypes("number").columns.drop(seconds)
    pd.testing.assert_frame_equal(
        a.drop(columns=[*numbers, *seconds]), b.drop(columns=[*numbers, *seconds])
    )
    np.testing.assert_allclose(a[numbers], b[numbers], rtol=1e-9, atol=1e-12)
    # the family is fitted on the training essays only
    case = cases[0]
    train = case.X[case.roles == "both"]
    family = tfidf_svd_family(train, [8, 16])
    alone = TfidfSVDFeaturizer(8).fit(train)
    np.testing.assert_array_equal(
        family["tfidf-svd k=8"].transform(case.X), alone.transform(case.X)
    )


def test_shared_strong_fit_gives_the_separate_fits_records(quick_cases, monkeypatch):
    """The strong side shared by a split's weak models: the separate records.

    The cases share their strong fit (one WeakSupervisorSearch per case: one
    strong featurizer fit, one strong head fit on every weak model's labels);
    the records equal those of one fit per weak model to 1e-10.
    """
    from dataclasses import replace

    from skwtsg.experiments import run_cases
    from skwtsg.model_selection import WeakSupervisorSearch

    searches = []
    fit = WeakSupervisorSearch.fit

    def recording_fit(self, *args, **kwargs):
        searches.append(sorted(self.weak_supervisors))
        return fit(self, *args, **kwargs)

    cases, _ = quick_cases
    assert all(c.share_strong_fit for c in cases)
    separate = run_cases([replace(c, share_strong_fit=False) for c in cases[:2]])
    monkeypatch.setattr(WeakSupervisorSearch, "fit", recording_fit)
    shared = run_cases(cases[:2])
    # one search per case, over all of its weak models
    assert searches == [sorted(c.weak_featurizers) for c in cases[:2]]
    # the search also gives each case's paired verdict (no separate-fit analogue)
    paired = ["paired_difference", "paired_low", "paired_high", "paired_verdict"]
    assert shared["paired_verdict"].notna().all()
    shared = shared.drop(columns=paired)
    seconds = ["fit_seconds", "ceiling_seconds"]
    numbers = shared.select_dtypes("number").columns.drop(seconds)
    pd.testing.assert_frame_equal(
        shared.drop(columns=[*numbers, *seconds]),
        separate.drop(columns=[*numbers, *seconds]),
    )
    assert np.isfinite(shared[numbers].to_numpy()).any()
    np.testing.assert_allclose(
        shared[numbers], separate[numbers], rtol=1e-10, atol=1e-14
    )


def test_one_pass_fills_every_layer_cache(quick_cases, tiny, monkeypatch):
    cases, cache = quick_cases
    names = sorted(p.name for p in cache.iterdir())
    assert [n.split("-layer")[1] for n in names] == [
        f"{i}-len128.sqlite" for i in (0, 1, 2, 4, 8)
    ]

    def no_model(self):
        raise AssertionError("the cases must read every embedding from the cache")

    monkeypatch.setattr(TransformerHiddenStateFeaturizer, "_get_model", no_model)
    X = cases[0].X
    for feat in [cases[0].strong_featurizer, *cases[0].weak_featurizers.values()]:
        if isinstance(feat, TransformerHiddenStateFeaturizer):
            emb = feat.fit(X)
            assert emb.transform(X).shape == (40, 16) and emb.cache_misses_ == 0


def test_subset_is_fixed_and_splits_are_seeded(quick_cases, tiny):
    cases, cache = quick_cases
    kwargs = dict(
        data_home=DATA_HOME,
        model=tiny,
        cache_dir=cache,
        quick=True,
        n_essays=40,
        minilm=False,
    )
    same = make_essay_cases(**kwargs)
    other = make_essay_cases(**kwargs, random_state=1)
    for a, b, c in zip(cases, same, other):
        np.testing.assert_array_equal(a.roles, b.roles)
        assert a.meta["rows"] == b.meta["rows"] == c.meta["rows"]  # fixed subset
    assert not np.array_equal(cases[0].roles, other[0].roles)


def test_full_cases(essays):
    """The full configuration, built without embedding (cache disabled)."""
    cases = make_essay_cases(data_home=DATA_HOME, cache_dir=False)
    assert len(cases) == 3
    case = cases[0]
    assert case.name == "ELLIPSE split 0" and case.X.shape == (2571, 1)
    np.testing.assert_array_equal(case.y, essays.target[:, 1:])
    assert (case.roles == "eval").sum() == 772  # ceil(0.3 * 2571)
    assert (case.roles == "both").sum() == 1799
    assert list(case.weak_featurizers) == [
        *(f"mpnet layer={i}" for i in (0, 1, 2, 4)),
        *(f"tfidf-svd k={k}" for k in (8, 16, 32, 64, 128, 256)),
        "MiniLM final",
    ]
    strong = case.strong_featurizer
    assert strong.model_name_or_path == "all-mpnet-base-v2"
    assert strong.layer == 8 and strong.max_length == 384 and strong.cache_dir is None
    minilm = case.weak_featurizers["MiniLM final"]
    assert isinstance(minilm, SentenceTransformerFeaturizer)
    assert case.meta["rows"] == "all"


def test_minilm_as_the_strong_side():
    """The documented negative finding's configuration."""
    (case,) = make_essay_cases(
        data_home=DATA_HOME,
        cache_dir=False,
        model="all-MiniLM-L6-v2",
        strong_layer=None,
        n_splits=1,
    )
    assert isinstance(case.strong_featurizer, SentenceTransformerFeaturizer)
    assert "MiniLM final" not in case.weak_featurizers  # not its own teacher
    assert "MiniLM layer=4" in case.weak_featurizers


def test_default_cache_dir():
    (case,) = make_essay_cases(data_home=DATA_HOME, cache_dir=False, n_splits=1)
    assert case.strong_featurizer.cache_dir is None
    assert default_embedding_cache().name == "embeddings"


def test_split_essays():
    roles = split_essays(100, test_size=0.3, random_state=0)
    assert roles.dtype.kind == "U" and (roles == "eval").sum() == 30
    assert set(roles) == {"both", "eval"}
    np.testing.assert_array_equal(roles, split_essays(100, random_state=0))
    assert not np.array_equal(roles, split_essays(100, random_state=1))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rubrics": ("Cohesion", "Spelling")}, "rubrics"),
        ({"rubrics": ()}, "rubrics"),
        ({"rubrics": ("Syntax", "Syntax")}, "rubrics"),
        ({"n_components": (8, 0)}, "n_components"),
        ({"n_components": ()}, "n_components"),
        ({"n_components": (8, 8)}, "duplicates"),
        ({"test_size": 1.5}, "test_size"),
        ({"test_size": 0}, "test_size"),
        ({"n_splits": 0}, "n_splits"),
        ({"n_essays": 3000}, "n_essays"),
        ({"n_essays": 0}, "n_essays"),
        ({"max_length": 0}, "max_length"),
        ({"weak_layers": (1, 1)}, "weak_layers"),
        ({"weak_layers": (-1,)}, "weak_layers"),
        ({"strong_layer": -2}, "strong_layer"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_essay_cases(data_home=DATA_HOME, quick=True, cache_dir=False, **kwargs)


def _records(gains, misfits):
    n = len(gains)
    return pd.DataFrame(
        {
            "case": [f"s{i % 2}" for i in range(n)],
            "weak_model": [f"w{i // 2}" for i in range(n)],
            "task": "Cohesion",
            "gain": gains,
            "misfit": misfits,
            "weak_error": 0.4,
            "strong_error": 0.3,
            "ceiling_error": 0.25,
        }
    )


def test_conclusion_thresholds():
    agree = essay_conclusion(_records([0.1, 0.12, 0.05, 0.07], [0.1, 0.11, 0.06, 0.06]))
    assert agree["agrees"] and agree["frac_pairs_gain_positive"] == 1.0
    assert agree["mean_abs_gain_minus_misfit"] == pytest.approx(0.0075)
    assert "reproduced" in agree["verdict"] and "not" not in agree["verdict"]
    # Gains track misfits but are negative for one weak model: 50% < 80%.
    differ = essay_conclusion(_records([0.1, 0.1, -0.05, -0.05], [0.1, 0.1, 0.0, 0.0]))
    assert not differ["agrees"] and differ["frac_pairs_gain_positive"] == 0.5
    assert "w1" in differ["text"] and "not reproduced" in differ["verdict"]
    # Positive gains far above the misfit: mean |gain - misfit| 0.1 >= 0.02.
    far = essay_conclusion(_records([0.2, 0.2, 0.2, 0.2], [0.1, 0.1, 0.1, 0.1]))
    assert not far["agrees"]
