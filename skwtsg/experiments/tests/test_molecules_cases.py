"""Tests of the molecule experiment's cases."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("rdkit")
pytest.importorskip("torch")

from skwtsg.experiments._case import W2SCase  # noqa: E402
from skwtsg.experiments._molecule_weak import StoredEmbeddings  # noqa: E402
from skwtsg.experiments._molecules import (  # noqa: E402
    PAPER_TABLES,
    QUICK_N_TEST,
    QUICK_N_TRAIN,
    make_molecule_cases,
)
from skwtsg.featurizers._molecules import (  # noqa: E402
    MorganFingerprintFeaturizer,
    RDKitDescriptorFeaturizer,
)
from skwtsg.featurizers._smiles import SmilesTransformerFeaturizer  # noqa: E402
from skwtsg.heads import LeastSquaresHead, RidgeHead  # noqa: E402
from skwtsg.tests._shared_data import require_data_home  # noqa: E402


@pytest.fixture(scope="module")
def data_home():
    return require_data_home("molecules/ESOL.csv")


@pytest.fixture(scope="module")
def quick_case(data_home):
    (case,) = make_molecule_cases(data_home=data_home, quick=True)
    return case


def test_quick_case_layout(quick_case):
    case = quick_case
    assert isinstance(case, W2SCase)
    assert (case.group, case.name) == ("ESOL", "random122")
    n = QUICK_N_TRAIN + QUICK_N_TEST
    assert case.X.shape == (n, 1) and case.X.dtype == object
    assert case.y.shape == (n,) and case.y.dtype == np.float64
    assert list(case.roles[:QUICK_N_TRAIN]) == ["both"] * QUICK_N_TRAIN
    assert list(case.roles[QUICK_N_TRAIN:]) == ["eval"] * QUICK_N_TEST
    assert list(case.weak_featurizers) == ["hidden=8", "hidden=96"]
    for k, weak in zip((8, 96), case.weak_featurizers.values()):
        # pretrained once, frozen: the runner fits only the weak head
        assert isinstance(weak, StoredEmbeddings)
        assert isinstance(weak.estimator, SmilesTransformerFeaturizer)
        assert weak.estimator.hidden_size == k and weak.estimator.max_epochs == 1
        assert weak.estimator.extra_smiles is None
        assert isinstance(weak.estimator.random_state, int)
        assert weak.estimator.n_pretrain_samples_ == n  # the quick corpus
    assert (
        case.meta["preparation"]["pretrained"] + case.meta["preparation"]["loaded"] == 2
    )
    assert isinstance(case.strong_featurizer, RDKitDescriptorFeaturizer)
    assert isinstance(case.head, RidgeHead)
    assert case.head.alpha == pytest.approx(0.3 * QUICK_N_TRAIN)
    assert isinstance(case.weak_head, LeastSquaresHead)
    assert case.task_names == ["logS"]
    assert case.meta["quick"] and case.meta["n_valid_unused"] == 113


def test_quick_rows_come_from_the_right_splits(quick_case, data_home):
    from skwtsg.datasets._molecules import fetch_molecules

    data = fetch_molecules("ESOL", data_home=data_home)
    rows = np.asarray(quick_case.meta["rows"])
    split = data.splits[122][rows]
    np.testing.assert_array_equal(split == "train", quick_case.roles == "both")
    np.testing.assert_array_equal(split == "test", quick_case.roles == "eval")
    np.testing.assert_array_equal(quick_case.X[:, 0], data.smiles[rows])
    np.testing.assert_array_equal(quick_case.y, data.target[rows])


def test_full_cases_sizes_and_roles(data_home):
    cases = make_molecule_cases(data_home=data_home, weak_family="morgan")
    assert [(c.group, c.name) for c in cases] == [
        (d, f"random{s}")
        for d in ("ESOL", "FreeSolv", "Lipop")
        for s in (122, 123, 124)
    ]
    sizes = {"ESOL": (902, 113), "FreeSolv": (513, 65), "Lipop": (3360, 420)}
    for case in cases:
        n_train, n_test = sizes[case.group]
        assert case.X.shape == (n_train + n_test, 1)
        assert (case.roles == "both").sum() == n_train
        assert (case.roles == "eval").sum() == n_test
        assert set(case.roles) == {"both", "eval"}
        assert list(case.weak_featurizers) == [
            f"bits={k}" for k in (8, 12, 16, 24, 32, 48, 64, 96)
        ]
        assert all(
            isinstance(w, MorganFingerprintFeaturizer)
            for w in case.weak_featurizers.values()
        )
        assert case.head.alpha == pytest.approx(0.3 * n_train)
        assert case.meta["paper_table"] == PAPER_TABLES[case.group]
    # different splits, different rows
    assert not np.array_equal(cases[0].X, cases[1].X)


def test_transformer_seeds_are_reproducible(data_home, tmp_path):
    kwargs = dict(data_home=data_home, quick=True, random_state=3, cache_dir=False)
    (a,) = make_molecule_cases(["ESOL"], [123], **kwargs)
    (b,) = make_molecule_cases(["ESOL"], [123], **kwargs)
    seeds_a = [w.estimator.random_state for w in a.weak_featurizers.values()]
    assert seeds_a == [w.estimator.random_state for w in b.weak_featurizers.values()]
    assert len(set(seeds_a)) == len(seeds_a)
    assert all(w.estimator.n_threads == 1 for w in a.weak_featurizers.values())
    X = a.X[:5]
    for wa, wb in zip(a.weak_featurizers.values(), b.weak_featurizers.values()):
        np.testing.assert_array_equal(wa.transform(X), wb.transform(X))


def test_weak_params_are_passed_on(data_home):
    (case,) = make_molecule_cases(
        "ESOL", 124, hidden_sizes=[8, 16], data_home=data_home, quick=True,
        weak_params={"max_epochs": 2, "n_threads": 2}, cache_dir=False,
    )  # fmt: skip
    weak = case.weak_featurizers["hidden=16"].estimator
    assert (weak.max_epochs, weak.n_threads, weak.hidden_size) == (2, 2, 16)


def test_each_size_pretrained_once_for_every_split(data_home, tmp_path, monkeypatch):
    """One pretraining per size, on one corpus, shared by every data set and
    split (before: one per data set, split and size, on that split's SMILES)."""
    corpus = np.array(["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC"] * 20)
    for name in ("pretraining_corpus", "dataset_smiles"):
        monkeypatch.setattr(f"skwtsg.experiments._molecules.{name}", lambda h: corpus)
    params = {"max_epochs": 1}
    cases = make_molecule_cases(
        ["ESOL", "FreeSolv"], [122, 123], hidden_sizes=[8, 12], data_home=data_home,
        weak_params=params, cache_dir=tmp_path,
    )  # fmt: skip
    assert len(cases) == 4
    for case in cases[1:]:
        for label, weak in case.weak_featurizers.items():
            assert weak is cases[0].weak_featurizers[label]
    assert cases[0].meta["preparation"]["pretrained"] == 2
    again = make_molecule_cases(
        ["Lipop"], [124], hidden_sizes=[8, 12], data_home=data_home,
        weak_params=params, cache_dir=tmp_path,
    )  # fmt: skip
    # loaded from the cache, whatever the data set: keyed by size and corpus
    assert again[0].meta["preparation"]["pretrained"] == 0
    assert again[0].meta["preparation"]["loaded"] == 2
    assert cases[0].meta["preparation"]["n_corpus"] == 4
    Z = again[0].weak_featurizers["hidden=8"].transform(corpus[:4])
    np.testing.assert_array_equal(
        Z, cases[0].weak_featurizers["hidden=8"].transform(corpus[:4])
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"datasets": ["Tox21"]}, "valid names"),
        ({"datasets": ["ESOL", "esol"]}, "distinct"),
        ({"seeds": [125]}, "split must be"),
        ({"seeds": [122, 122]}, "distinct"),
        ({"weak_family": "gnn"}, "weak_family"),
        ({"hidden_sizes": [8, 9]}, "even"),
        ({"hidden_sizes": [0]}, "positive"),
        ({"strong_alpha_per_sample": -1.0}, "strong_alpha_per_sample"),
        ({"weak_params": [1]}, "weak_params"),
    ],
)
def test_invalid_arguments(data_home, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_molecule_cases(data_home=data_home, **kwargs)


def test_paper_tables_are_complete():
    assert set(PAPER_TABLES) == {"ESOL", "FreeSolv", "Lipop"}
    for rows in PAPER_TABLES.values():
        assert sorted(r[0] for r in rows) == [8, 12, 16, 24, 32, 48, 64, 96]
        bounds = [r[1] for r in rows]
        assert bounds == sorted(bounds)  # the paper lists them by bound
        assert all(len(r) == 5 and r[2] >= 0 and r[4] >= 0 for r in rows)
    assert PAPER_TABLES["Lipop"][0] == (96, 0.8969, 0.0327, 1.0713, 0.0489)


def test_quick_case_fits_end_to_end(quick_case):
    import skwtsg

    case = quick_case
    weak = case.weak_featurizers["hidden=8"]
    model = skwtsg.WeakToStrongRegressor(
        weak, case.strong_featurizer, head=case.head, weak_head=case.weak_head
    ).fit(case.X, case.y, roles=case.roles)
    assert list(model.roles_) == list(case.roles)
    for name in ("weak_error_", "strong_error_", "misfit_", "gain_", "bound_"):
        assert np.isfinite(getattr(model, name))
    assert model.misfit_ > 0  # the ridge head does not interpolate the weak labels
    assert model.gain_ == pytest.approx(model.weak_error_ - model.strong_error_)
    evaluation = case.roles == "eval"
    y_strong = model.predict(case.X[evaluation])
    assert model.strong_error_ == pytest.approx(
        np.mean((y_strong - case.y[evaluation]) ** 2)
    )
