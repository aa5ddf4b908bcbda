"""Tests of the RDKit featurizers (descriptors + Morgan fingerprints)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
)

pytest.importorskip("rdkit")

from rdkit import Chem  # noqa: E402
from rdkit.Chem import Descriptors, rdFingerprintGenerator  # noqa: E402

from skwtsg.featurizers import _molecules as M  # noqa: E402
from skwtsg.featurizers._molecules import (  # noqa: E402
    MorganFingerprintFeaturizer,
    RDKitDescriptorFeaturizer,
    cache_info,
    clear_cache,
)

SMILES = [
    "CCO",
    "c1ccccc1",
    "CC(=O)O",
    "CCN(CC)CC",
    "c1ccc2ccccc2c1",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O",
    "ClC(Cl)(Cl)Cl",
    "CCCCCCCCCCCCCCCC(=O)O",
    "Nc1ccc(cc1)S(=O)(=O)N",
    "O=C(O)c1ccccc1O",
    "CC(=O)Oc1ccccc1C(=O)O",
    "C1CCCCC1",
    "BrCCBr",
    "FC(F)(F)c1ccccc1",
    "COc1ccc2[nH]cc(CCN(C)C)c2c1",
    "CCOC(=O)C",
    "C=CC=C",
    "N#Cc1ccccc1",
    "O=[N+]([O-])c1ccccc1",
    "CS(C)=O",
    "OCCO",
    "c1ccncc1",
]

SMALL = {"morgan_bits": 64}


@pytest.fixture(scope="module")
def fitted():
    return RDKitDescriptorFeaturizer(**SMALL).fit(SMILES)


# ------------------------------------------------ RDKitDescriptorFeaturizer
def test_shapes_names_and_standardisation(fitted):
    Z = fitted.transform(SMILES)
    assert Z.dtype == np.float64 and Z.shape == (len(SMILES), fitted.n_features_out_)
    assert np.isfinite(Z).all()
    names = fitted.get_feature_names_out()
    assert names.shape == (Z.shape[1],) and len(set(names)) == len(names)
    assert "MolLogP" in names and any(n.startswith("morgan_") for n in names)
    assert fitted.n_features_in_ == 1
    n_desc = len(Descriptors.descList)
    assert fitted.descriptor_names_ == [n for n, _ in Descriptors.descList]
    assert Z.shape[1] == n_desc + 64 - len(fitted.dropped_constant_) - len(
        fitted.dropped_nonfinite_
    )
    # standardised on the fit data (clipping at 10 cannot bind with 24 rows)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-10)
    assert "NumRadicalElectrons" in fitted.dropped_constant_  # all zero here


def test_unstandardised_values_are_rdkit_values():
    featurizer = RDKitDescriptorFeaturizer(
        descriptors=["MolWt", "TPSA"], morgan_bits=0, standardize=False
    ).fit(SMILES)
    Z = featurizer.transform(SMILES[:5])
    expected = [
        [Descriptors.MolWt(m), Descriptors.TPSA(m)]
        for m in map(Chem.MolFromSmiles, SMILES[:5])
    ]
    np.testing.assert_allclose(Z, expected)
    assert list(featurizer.get_feature_names_out()) == ["MolWt", "TPSA"]


def test_fingerprint_part_is_the_morgan_count_fingerprint():
    featurizer = RDKitDescriptorFeaturizer(
        descriptors=[], morgan_bits=32, morgan_radius=1, standardize=False
    ).fit(SMILES)
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=1, fpSize=32)
    expected = np.array(
        [generator.GetCountFingerprintAsNumPy(Chem.MolFromSmiles(s)) for s in SMILES]
    )
    kept = [int(n.split("_")[1]) for n in featurizer.get_feature_names_out()]
    np.testing.assert_array_equal(featurizer.transform(SMILES), expected[:, kept])
    binary = clone(featurizer).set_params(counts=False).fit(SMILES)
    assert set(np.unique(binary.transform(SMILES))) <= {0.0, 1.0}


@pytest.mark.parametrize(
    "make",
    [
        np.asarray,
        lambda s: np.asarray(s, dtype=object).reshape(-1, 1),
        lambda s: pd.DataFrame({"smiles": s}),
        pd.Series,
        tuple,
    ],
)
def test_input_layouts_agree(fitted, make):
    np.testing.assert_array_equal(
        fitted.transform(make(SMILES)), fitted.transform(SMILES)
    )


def test_dataframe_sets_feature_names_in():
    featurizer = RDKitDescriptorFeaturizer(**SMALL).fit(pd.DataFrame({"smi": SMILES}))
    assert list(featurizer.feature_names_in_) == ["smi"]
    assert not hasattr(clone(featurizer).fit(SMILES), "feature_names_in_")


@pytest.mark.parametrize("where", ["fit", "transform"])
def test_invalid_smiles_names_row_and_string(fitted, where):
    bad = [*SMILES[:3], "C1CC(", "CCO"]
    with pytest.raises(ValueError, match=r"row 3: RDKit cannot parse .*'C1CC\('"):
        if where == "fit":
            clone(fitted).fit(bad)
        else:
            fitted.transform(bad)


@pytest.mark.parametrize(
    "X, match",
    [
        ("CCO", "single string"),
        (["CCO", 3.0], "row 1 of X is not a SMILES string"),
        (np.array([["CCO", "CC"]], dtype=object), "shape"),
        (pd.DataFrame({"a": ["C"], "b": ["C"]}), "one column"),
        (["CCO", ""], "row 1"),
    ],
)
def test_bad_inputs(X, match):
    with pytest.raises(ValueError, match=match):
        RDKitDescriptorFeaturizer(**SMALL).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"descriptors": "some"}, "'descriptors' parameter"),
        ({"descriptors": ["MolWt", "NotADescriptor"]}, "NotADescriptor"),
        ({"descriptors": ["MolWt", "MolWt"]}, "repeat"),
        ({"morgan_bits": -1}, "'morgan_bits' parameter .* range \\[0, inf\\)"),
        ({"morgan_radius": 1.5}, "morgan_radius"),
        ({"counts": "yes"}, "'counts' parameter"),
        ({"descriptors": [], "morgan_bits": 0}, "no features"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        RDKitDescriptorFeaturizer(**params).fit(SMILES)


def test_constant_fit_data_is_rejected():
    with pytest.raises(ValueError, match="every feature is constant"):
        RDKitDescriptorFeaturizer(**SMALL).fit(["CCO", "CCO"])


def test_nonfinite_descriptors_are_dropped_or_imputed(monkeypatch):
    real = M._descriptor_matrix
    state = {"fit": True}

    def fake(smiles, names, estimator=None, store=None):
        out = real(smiles, names, estimator, store).copy()
        out[0, 0] = np.nan  # column 0 non-finite on the fit data: dropped
        out[:, 1] *= 1e9  # column 1 huge: log-scaled
        if not state["fit"]:
            out[1, 2] = np.inf  # kept column, non-finite at transform: fit mean
        return out

    monkeypatch.setattr(M, "_descriptor_matrix", fake)
    names = ["MolWt", "TPSA", "MolLogP", "NumHDonors"]
    featurizer = RDKitDescriptorFeaturizer(descriptors=names, morgan_bits=0)
    featurizer.fit(SMILES)
    assert featurizer.dropped_nonfinite_ == ["MolWt"]
    assert featurizer.log_scaled_ == ["TPSA"]
    assert list(featurizer.get_feature_names_out()) == names[1:]
    state["fit"] = False
    Z = featurizer.transform(SMILES)
    assert np.isfinite(Z).all()
    assert Z[1, 1] == 0.0  # imputed by the fit mean, i.e. 0 once standardised
    tpsa = np.array([Descriptors.TPSA(Chem.MolFromSmiles(s)) for s in SMILES]) * 1e9
    logged = np.sign(tpsa) * np.log1p(np.abs(tpsa))
    np.testing.assert_allclose(Z[:, 0], (logged - logged.mean()) / logged.std())


def test_extreme_values_are_clipped(fitted):
    many = SMILES + ["CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC(=O)O"]
    Z = fitted.transform(many)
    assert np.abs(Z).max() == M.CLIP


def test_cache_is_hit_on_refit_and_transform():
    clear_cache()
    featurizer = RDKitDescriptorFeaturizer(**SMALL).fit(SMILES)
    first = cache_info()
    assert first["misses"] == 2 * len(SMILES)  # descriptors + fingerprint
    assert first["size"] == 2 * len(SMILES)
    Z = featurizer.transform(SMILES)
    clone(featurizer).fit(SMILES[::-1])
    second = cache_info()
    assert second["misses"] == first["misses"]
    assert second["hits"] == first["hits"] + 4 * len(SMILES)
    clear_cache()
    np.testing.assert_array_equal(featurizer.transform(SMILES), Z)  # recomputed
    assert cache_info()["misses"] == 2 * len(SMILES)


def test_clone_pickle_and_determinism(fitted):
    Z = fitted.transform(SMILES)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(SMILES), Z)
    refit = clone(fitted)
    assert refit.get_params() == fitted.get_params()
    assert not hasattr(refit, "columns_")
    np.testing.assert_array_equal(refit.fit(SMILES).transform(SMILES), Z)
    # rows are featurized independently: order and subsets do not matter
    np.testing.assert_array_equal(fitted.transform(SMILES[::-1]), Z[::-1])


def test_transform_before_fit_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RDKitDescriptorFeaturizer().transform(SMILES)


# ------------------------------------------------ MorganFingerprintFeaturizer
@pytest.mark.parametrize("n_bits", [8, 12, 16, 24, 32, 48, 64, 96])
def test_morgan_shapes_and_values(n_bits):
    featurizer = MorganFingerprintFeaturizer(n_bits=n_bits)
    Z = featurizer.fit_transform(np.asarray(SMILES, dtype=object).reshape(-1, 1))
    assert Z.shape == (len(SMILES), n_bits) and Z.dtype == np.float64
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=n_bits)
    expected = [
        generator.GetCountFingerprintAsNumPy(Chem.MolFromSmiles(s)) for s in SMILES
    ]
    np.testing.assert_array_equal(Z, expected)
    assert list(featurizer.get_feature_names_out()) == [
        f"morgan_{i}" for i in range(n_bits)
    ]


def test_morgan_is_stateless_and_bits_option():
    unfitted = MorganFingerprintFeaturizer(n_bits=16, counts=False, radius=1)
    Z = unfitted.transform(SMILES)  # no fit needed
    assert set(np.unique(Z)) <= {0.0, 1.0}
    np.testing.assert_array_equal(unfitted.fit(SMILES[:2]).transform(SMILES), Z)
    assert unfitted.__sklearn_tags__().requires_fit is False


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_bits": 0}, "'n_bits' parameter .* range \\[1, inf\\)"),
        ({"n_bits": 8.0}, "n_bits"),
        ({"radius": -1}, "radius"),
        ({"counts": 1}, "counts"),
    ],
)
def test_morgan_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        MorganFingerprintFeaturizer(**params).fit(SMILES)


def test_morgan_invalid_smiles():
    with pytest.raises(ValueError, match=r"row 1: RDKit cannot parse .*'Xx'"):
        MorganFingerprintFeaturizer().transform(["CCO", "Xx"])


# ---------------------------------------------------- scikit-learn checks
# They feed numeric arrays, which these SMILES featurizers reject, so the
# common checks are replaced by the API checks that apply and the tests above.
API_CHECKS = [
    check_estimator_cloneable,
    check_estimator_repr,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_get_params_invariance,
    check_set_params,
    check_estimator_tags_renamed,
    check_valid_tag_types,
]


@pytest.mark.parametrize(
    "estimator", [RDKitDescriptorFeaturizer(), MorganFingerprintFeaturizer()]
)
@pytest.mark.parametrize("check", API_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_api_checks(estimator, check):
    check(type(estimator).__name__, estimator)


def test_tags_declare_string_input():
    tags = RDKitDescriptorFeaturizer().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array


def test_fast_descriptors_skip_the_costly_ones(monkeypatch):
    # "fast" never calls Ipc or AvgIpc (the descriptors whose cost explodes
    # on very large molecules) and leaves every other column as "all" has it.
    assert set(M.COSTLY_DESCRIPTORS) == {"Ipc", "AvgIpc"}
    every = RDKitDescriptorFeaturizer(descriptors="all", morgan_bits=16).fit(SMILES)

    def forbidden(mol):
        raise AssertionError("a costly descriptor was computed")

    table = [
        (n, forbidden if n in M.COSTLY_DESCRIPTORS else f)
        for n, f in Descriptors.descList
    ]
    monkeypatch.setattr(Descriptors, "descList", table)
    M.clear_cache()
    fast = RDKitDescriptorFeaturizer(descriptors="fast", morgan_bits=16).fit(SMILES)
    assert fast.descriptor_names_ == [
        n for n in every.descriptor_names_ if n not in M.COSTLY_DESCRIPTORS
    ]
    names_all = list(every.get_feature_names_out())
    names_fast = list(fast.get_feature_names_out())
    assert "Ipc" in names_all and "AvgIpc" in names_all
    assert names_fast == [n for n in names_all if n not in M.COSTLY_DESCRIPTORS]
    keep = [names_all.index(n) for n in names_fast]
    np.testing.assert_allclose(fast.transform(SMILES), every.transform(SMILES)[:, keep])


SMILES_CACHE = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC", "C1CCCCC1"]


def test_descriptor_disk_cache_is_bitwise_and_read_back(tmp_path, monkeypatch):
    """A second process (an empty in-process cache) reads the stored rows."""
    kw = dict(morgan_bits=32, descriptors=["MolLogP", "TPSA", "BertzCT"])
    fresh = RDKitDescriptorFeaturizer(**kw).fit(SMILES_CACHE)
    M.clear_cache()
    cached = RDKitDescriptorFeaturizer(cache_dir=tmp_path, **kw).fit(SMILES_CACHE)
    assert cached.cache_path_.parent == tmp_path and cached.cache_path_.exists()
    assert "descriptors" in cached.cache_path_.name
    Z = cached.transform(SMILES_CACHE)
    np.testing.assert_array_equal(Z, fresh.transform(SMILES_CACHE))

    M.clear_cache()  # as in another process: only the disk has the rows

    def fail(*args, **kwargs):
        raise AssertionError("descriptor computed although it is on disk")

    monkeypatch.setattr(M, "_descriptor_functions", lambda names: [fail] * len(names))
    again = RDKitDescriptorFeaturizer(cache_dir=tmp_path, **kw).fit(SMILES_CACHE)
    np.testing.assert_array_equal(again.transform(SMILES_CACHE), Z)


def test_descriptor_disk_cache_key_and_misses(tmp_path):
    """Another descriptor list is another file; new molecules are added."""
    a = RDKitDescriptorFeaturizer(
        cache_dir=tmp_path, morgan_bits=0, descriptors=["MolLogP"]
    ).fit(SMILES_CACHE[:3])
    b = RDKitDescriptorFeaturizer(
        cache_dir=tmp_path, morgan_bits=0, descriptors=["TPSA"]
    ).fit(SMILES_CACHE[:3])
    assert a.cache_path_ != b.cache_path_
    M.clear_cache()
    a.transform(SMILES_CACHE)  # two molecules not stored yet
    from skwtsg._utils._cache import EmbeddingStore

    stored = EmbeddingStore(a.cache_path_, dtype="<f8").get_many(SMILES_CACHE)
    assert sorted(stored) == sorted(SMILES_CACHE)
    plain = RDKitDescriptorFeaturizer(morgan_bits=0).fit(SMILES_CACHE)
    assert plain.cache_path_ is None


def test_descriptor_disk_cache_unwritable_warns(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    M.clear_cache()
    with pytest.warns(UserWarning, match="Could not write the descriptor cache"):
        featurizer = RDKitDescriptorFeaturizer(
            cache_dir=blocker, morgan_bits=0, descriptors=["MolLogP"]
        ).fit(SMILES_CACHE)
    assert featurizer.transform(SMILES_CACHE).shape == (len(SMILES_CACHE), 1)
