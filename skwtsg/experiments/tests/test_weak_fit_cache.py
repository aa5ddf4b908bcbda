"""The shared-strong-fit path's caches: per-case transform memo, fit cache."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import FunctionTransformer

from skwtsg.experiments import W2SCase, _prefit, _runner, run_cases

_TIMINGS = ["fit_seconds", "ceiling_seconds"]


class _CountingPCA(PCA):
    """PCA counting its fits in this process (class attribute)."""

    fits = 0

    def fit(self, X, y=None):
        type(self).fits += 1
        return super().fit(X, y)


def _case(tmp_path=None, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(300, 5)) * np.linspace(3, 1, 5)
    y = X @ rng.normal(size=5)
    roles = np.repeat(["both", "eval"], [200, 100])
    weak = {f"pca{k}": _CountingPCA(n_components=k) for k in (1, 3)}
    return W2SCase(
        "c",
        X,
        y,
        roles,
        FunctionTransformer(np.tanh),  # outside the weak span
        weak,
        share_strong_fit=True,
        weak_fit_cache=tmp_path,
    )


def _assert_same_records(a, b):
    a, b = a.drop(columns=_TIMINGS), b.drop(columns=_TIMINGS)
    assert list(a.columns) == list(b.columns)
    for col in a.columns:  # bitwise, NaNs in the same places
        assert a[col].equals(b[col]), col


def test_weak_fit_cache_hit_gives_identical_records(tmp_path):
    _CountingPCA.fits = 0
    fresh = run_cases([_case(tmp_path)])
    assert _CountingPCA.fits == 2 and any(tmp_path.iterdir())
    hit = run_cases([_case(tmp_path)])
    assert _CountingPCA.fits == 2  # both loaded
    _assert_same_records(fresh, hit)
    uncached = run_cases([_case(None)])
    assert _CountingPCA.fits == 4
    _assert_same_records(fresh, uncached)


def test_weak_fit_cache_misses_on_changes(tmp_path, monkeypatch):
    _CountingPCA.fits = 0
    run_cases([_case(tmp_path)])
    case = _case(tmp_path)
    case.weak_featurizers["pca3"].set_params(whiten=True)  # a parameter
    run_cases([case])
    assert _CountingPCA.fits == 3  # pca1 loaded, pca3 refitted
    case = _case(tmp_path)
    case.y = case.y + 1.0  # the labels
    run_cases([case])
    assert _CountingPCA.fits == 5
    real = _prefit._weak_fit_fingerprint

    def changed_source(weak):
        print_ = real(weak)
        return {**print_, "sources": {**print_["sources"], "x.py": "0" * 64}}

    monkeypatch.setattr(_prefit, "_weak_fit_fingerprint", changed_source)
    run_cases([_case(tmp_path)])
    assert _CountingPCA.fits == 7  # a source file changed


def test_weak_fit_cache_off_writes_nothing(tmp_path):
    _CountingPCA.fits = 0
    run_cases([_case(None)])
    run_cases([_case(None)])
    assert _CountingPCA.fits == 4
    assert not any(tmp_path.iterdir())


def test_weak_fits_dispatched_largest_first(monkeypatch):
    case = _case()
    case.weak_featurizers = {
        "small": _CountingPCA(n_components=1),
        "big": PCA(n_components=2),
    }
    case.weak_featurizers["big"].hidden_size = 50  # the cost proxy reads it
    order = []
    real = _prefit._fit_weak_featurizer

    def spy(weak, *args):
        order.append(getattr(weak, "hidden_size", None))
        return real(weak, *args)

    monkeypatch.setattr(_prefit, "_fit_weak_featurizer", spy)
    shared = _prefit._prefit_weak_featurizers([case], n_jobs=1, verbose=False)
    assert order == [50, None]
    assert list(shared[id(case)]) == ["small", "big"]  # results keep the labels


class _TransformCountingPCA(PCA):
    """PCA recording the number of rows of each transform call."""

    def transform(self, X):
        self.transform_rows_ = [*getattr(self, "transform_rows_", []), len(X)]
        return super().transform(X)


def test_shared_fit_transforms_each_input_once():
    case = _case()
    X_weak = case.X[case.roles == "both"]
    weak_fits = {f"pca{k}": (_TransformCountingPCA(k).fit(X_weak), 0.0) for k in (1, 3)}
    records = _runner._search_case(case, weak_fits)
    assert {r["weak_model"] for r in records} == {"pca1", "pca3"}
    # the weak labels of the strong ("both") rows in the search and again in
    # the ceiling's records: one transform; the evaluation rows: one more
    for fitted, _ in weak_fits.values():
        assert fitted.transform_rows_ == [200, 100]


@pytest.mark.filterwarnings("ignore:.*badly determined")
def test_molecule_fit_cache_bitwise(tmp_path, monkeypatch, one_torch_thread):
    pytest.importorskip("rdkit")
    from skwtsg.experiments._molecules import make_molecule_cases
    from skwtsg.featurizers._smiles import SmilesTransformerFeaturizer
    from skwtsg.tests._shared_data import require_data_home

    home = require_data_home("molecules/ESOL.csv")
    (case,) = make_molecule_cases(data_home=home, quick=True, cache_dir=tmp_path)
    assert case.meta["preparation"]["pretrained"] == 2
    fresh = run_cases([case])

    def no_fit(self, X, y=None):
        raise AssertionError("pretrained again")

    monkeypatch.setattr(SmilesTransformerFeaturizer, "fit", no_fit)
    # the transformers are loaded, not pretrained
    (again,) = make_molecule_cases(data_home=home, quick=True, cache_dir=tmp_path)
    assert again.meta["preparation"]["loaded"] == 2
    hit = run_cases([again])
    _assert_same_records(fresh, hit)


def test_molecule_cache_dir_option(tmp_path, monkeypatch):
    pytest.importorskip("rdkit")
    from skwtsg.__main__ import build_parser
    from skwtsg.experiments._molecules import (
        default_weak_fit_cache,
        make_molecule_cases,
    )

    monkeypatch.setenv("SKWTSG_CACHE", str(tmp_path))
    assert default_weak_fit_cache() == tmp_path / "weak_featurizers"
    with pytest.raises(ValueError, match="cache_dir"):
        make_molecule_cases(cache_dir=True, quick=True)
    parse = build_parser("skwtsg").parse_args
    args = parse(["reproduce", "molecules", "--cache-dir", "off"])
    assert args.cache_dir is False
    args = parse(["reproduce", "molecules", "--cache-dir", str(tmp_path)])
    assert args.cache_dir == str(tmp_path)
