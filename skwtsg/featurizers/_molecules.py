"""RDKit featurizers of SMILES strings: descriptors + Morgan fingerprints.

RDKit (``pip install skwtsg[chem]``) is imported when a featurizer is used.
The raw features of each molecule are cached in-process, keyed by the SMILES
and the settings, so refitting on the same molecules is cheap.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import warnings
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context

from .._utils._cache import MOLECULE_FEATURES, MORGAN_GENERATORS, EmbeddingStore
from .._utils._docstrings import fill_doc
from .._utils._validation import check_string_column

__all__ = ["RDKitDescriptorFeaturizer", "MorganFingerprintFeaturizer"]

#: Standardised values are clipped to this many fit standard deviations.
CLIP = 10.0
#: Descriptor columns whose fit-data magnitude exceeds this are log-scaled.
LOG_THRESHOLD = 1e6
#: RDKit descriptors whose cost grows steeply with molecule size (through the
#: characteristic polynomial of the distance matrix); ``descriptors="fast"``
#: leaves them out.
COSTLY_DESCRIPTORS = ("Ipc", "AvgIpc")


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def _check_smiles(X, *, estimator=None) -> np.ndarray:
    """SMILES as a 1-D object array of stripped ``str``."""
    return check_string_column(X, what="SMILES string", strip=True, estimator=estimator)


def _input_features(estimator, X, *, reset: bool) -> None:
    if reset:
        estimator.n_features_in_ = 1
        if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
            estimator.feature_names_in_ = np.asarray(X.columns, dtype=object)
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_


def _rdkit():
    try:
        from rdkit import Chem, rdBase
        from rdkit.Chem import Descriptors, rdFingerprintGenerator
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "RDKit is required for the molecule featurizers: "
            "pip install 'skwtsg[chem]' (or pip install rdkit)."
        ) from exc
    return Chem, rdBase, Descriptors, rdFingerprintGenerator


def _invalid(i, s, estimator=None) -> ValueError:
    who = f"{type(estimator).__name__}: " if estimator is not None else ""
    return ValueError(f"{who}row {i}: RDKit cannot parse the SMILES string {s!r}.")


# ---------------------------------------------------------------------------
# Per-molecule cache of raw features
# ---------------------------------------------------------------------------


def cache_info() -> dict:
    """The ``{"hits", "misses", "size"}`` of the per-molecule feature cache.

    Examples
    --------
    >>> from skwtsg.featurizers._molecules import cache_info
    >>> sorted(cache_info())
    ['hits', 'misses', 'size']
    """
    return MOLECULE_FEATURES.info()


def clear_cache() -> None:
    """Empty the per-molecule feature cache (and reset its counters).

    Examples
    --------
    >>> from skwtsg.featurizers._molecules import cache_info, clear_cache
    >>> clear_cache()
    >>> cache_info()["size"]
    0
    """
    MOLECULE_FEATURES.clear()


def _cached_rows(smiles, key, compute, estimator=None, store=None) -> list:
    """Cached ``compute(mol)`` of each SMILES under ``(key, smiles)``: in-process,
    then in the persistent ``store`` (rows keyed by SMILES), which gets the rows
    computed here."""
    Chem, rdBase, _, _ = _rdkit()
    keys = [(key, s) for s in smiles]
    stored: dict = {}
    computed: list[int] = []
    if store is not None:
        todo = MOLECULE_FEATURES.missing(keys)
        if todo:
            stored = store.get_many(sorted({smiles[i] for i in todo}))

    def one(i):
        hit = stored.get(smiles[i])
        if hit is not None:
            return np.array(hit)  # a writable copy of the stored row
        mol = Chem.MolFromSmiles(smiles[i])
        if mol is None or mol.GetNumAtoms() == 0:
            raise _invalid(i, smiles[i], estimator)
        computed.append(i)
        return compute(mol)

    with rdBase.BlockLogs():
        rows = MOLECULE_FEATURES.rows(keys, one)
    if store is not None and computed:
        new = {smiles[i]: rows[i] for i in computed}
        try:
            store.put_many(list(new), np.vstack(list(new.values())))
        except (OSError, sqlite3.Error) as exc:
            warnings.warn(
                f"Could not write the descriptor cache {store.path} ({exc}); "
                "the descriptors are computed again next time.",
                UserWarning,
                stacklevel=3,
            )
    return rows


def _descriptor_functions(names):
    _, _, Descriptors, _ = _rdkit()
    table = dict(Descriptors.descList)
    return [table[n] for n in names]


def _descriptor_matrix(smiles, names, estimator=None, store=None) -> np.ndarray:
    """Raw RDKit descriptors, shape (n, len(names)); NaN where RDKit fails."""
    names = tuple(names)
    if not names:
        return np.empty((len(smiles), 0))
    functions = _descriptor_functions(names)

    def compute(mol):
        out = np.empty(len(functions))
        for j, f in enumerate(functions):
            try:
                out[j] = float(f(mol))
            except Exception:  # RDKit raises assorted errors on odd molecules
                out[j] = np.nan
        return out

    rows = _cached_rows(smiles, ("descriptors", names), compute, estimator, store)
    return np.vstack(rows) if rows else np.empty((0, len(names)))


def _morgan_matrix(smiles, radius, n_bits, counts, estimator=None) -> np.ndarray:
    """Morgan fingerprints folded to ``n_bits``, shape (n, n_bits), float64."""
    if n_bits == 0:
        return np.empty((len(smiles), 0))
    _, _, _, rdFingerprintGenerator = _rdkit()
    gkey = (radius, n_bits)
    if gkey not in MORGAN_GENERATORS:
        MORGAN_GENERATORS[gkey] = rdFingerprintGenerator.GetMorganGenerator(
            radius=radius, fpSize=n_bits
        )
    generator = MORGAN_GENERATORS[gkey]

    def compute(mol):
        # sparse (bits, counts): a few dozen entries per molecule
        elements = generator.GetCountFingerprint(mol).GetNonzeroElements()
        bits = np.fromiter(elements.keys(), dtype=np.int64, count=len(elements))
        vals = np.fromiter(elements.values(), dtype=np.float64, count=len(elements))
        return bits, vals

    rows = _cached_rows(smiles, ("morgan", radius, n_bits), compute, estimator)
    out = np.zeros((len(smiles), n_bits))
    for i, (bits, vals) in enumerate(rows):
        out[i, bits] = vals
    if not counts:
        out = (out > 0).astype(np.float64)
    return out


def _morgan_names(n_bits: int) -> np.ndarray:
    """``morgan_0`` ... ``morgan_<n_bits-1>``: names of fingerprint columns."""
    return np.asarray([f"morgan_{i}" for i in range(n_bits)], dtype=object)


class _SmilesMixin:
    """One column of SMILES in; named output columns (``_names_out()``)."""

    def get_feature_names_out(
        self, input_features: ArrayLike | None = None
    ) -> np.ndarray:
        """Names of the output columns.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        feature_names_out : ndarray of str
            One name per output column.
        """
        return self._names_out()

    def _names_out(self):  # pragma: no cover - defined by the subclasses
        raise NotImplementedError

    def __sklearn_tags__(self):
        return _string_tags(super().__sklearn_tags__())  # type: ignore[misc]


def _string_tags(tags, two_d=False):
    """Tags of one column of strings (1-D, and 2-D with ``two_d``)."""
    tags.input_tags.string = True
    tags.input_tags.two_d_array = two_d
    tags.input_tags.one_d_array = True
    return tags


# ---------------------------------------------------------------------------
# Featurizers
# ---------------------------------------------------------------------------


@fill_doc
class RDKitDescriptorFeaturizer(_SmilesMixin, TransformerMixin, BaseEstimator):
    """Strong molecular representation: RDKit 2-D descriptors + Morgan counts.

    Each SMILES string becomes the vector of RDKit's 2-D descriptors
    (``rdkit.Chem.Descriptors.descList``) followed by its Morgan count
    fingerprint, the columns standardised with statistics learned in
    ``fit``. A stand-in for the paper's strong representation (MolBERT,
    whose weights are out of reach): any transformer of SMILES (e.g. one
    looking up MolBERT embeddings) can replace it.

    Parameters
    ----------
    descriptors : {"all", "fast"} or list of str, default="all"
        Names of RDKit descriptors to compute. ``"fast"`` leaves out ``Ipc``
        and ``AvgIpc``, whose cost grows steeply with molecule size; an
        empty list uses only the fingerprint.
    morgan_radius : int, default=2
        Radius of the Morgan fingerprint (2 is ECFP4-like).
    morgan_bits : int, default=2048
        Length of the folded fingerprint; 0 uses only the descriptors.
    counts : bool, default=True
        Count fingerprint if True, bit fingerprint if False.
    standardize : bool, default=True
        Centre and scale every kept column with its fit mean and standard
        deviation, then clip to ``[-10, 10]``.
    cache_dir : str, path-like or None, default=None
        Folder of a persistent cache of the raw descriptors of each molecule
        (one sqlite file per RDKit version and descriptor list, safe for
        several processes); ``None`` disables it. A cache that cannot be
        written only warns.

    Attributes
    ----------
    {smiles_in}
    descriptor_names_ : list of str
        Descriptors requested.
    dropped_nonfinite_ : list of str
        Descriptors dropped for a non-finite value on a fit molecule.
    log_scaled_ : list of str
        Descriptors larger than ``1e6`` in magnitude on the fit data, mapped
        through ``sign(x) * log1p(|x|)`` before scaling.
    dropped_constant_ : list of str
        Columns constant on the fit data, dropped.
    columns_ : ndarray of int
        Indices, among the raw columns, of the kept columns.
    mean_, scale_ : ndarray of shape (n_features_out,)
        Fit mean and standard deviation of each kept column (0 and 1 when
        ``standardize=False``).
    n_features_out_ : int
        Number of output columns.
    cache_path_ : pathlib.Path or None
        The sqlite file of the descriptor cache.

    See Also
    --------
    MorganFingerprintFeaturizer : Cheap, small folded fingerprints.
    SmilesTransformerFeaturizer : Small SMILES transformer, pretrained in fit.

    Notes
    -----
    At transform time a non-finite value in a kept column is replaced by its
    fit mean. Invalid SMILES raise a ``ValueError`` naming the row.

    References
    ----------
    .. [1] Fabian, B. et al. (2020). Molecular representation learning with
       language models and domain-relevant auxiliary tasks (MolBERT).
       arXiv:2011.13230.

    Examples
    --------
    >>> from skwtsg.featurizers import RDKitDescriptorFeaturizer
    >>> smiles = ["CCO", "c1ccccc1", "CC(=O)O", "CCN(CC)CC"]
    >>> featurizer = RDKitDescriptorFeaturizer(morgan_bits=64).fit(smiles)
    >>> Z = featurizer.transform(smiles)
    >>> Z.shape[0], Z.shape[1] == featurizer.n_features_out_
    (4, True)
    """

    _parameter_constraints: dict = {
        "descriptors": [StrOptions({"all", "fast"}), list, tuple],
        "morgan_radius": [Interval(Integral, 0, None, closed="left")],
        "morgan_bits": [Interval(Integral, 0, None, closed="left")],
        "counts": ["boolean"],
        "standardize": ["boolean"],
        "cache_dir": [str, os.PathLike, None],
    }

    def __init__(
        self,
        *,
        descriptors: str | list[str] = "all",
        morgan_radius: int = 2,
        morgan_bits: int = 2048,
        counts: bool = True,
        standardize: bool = True,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        self.descriptors = descriptors
        self.morgan_radius = morgan_radius
        self.morgan_bits = morgan_bits
        self.counts = counts
        self.standardize = standardize
        self.cache_dir = cache_dir

    def _descriptor_names(self) -> list[str]:
        """The requested descriptor names, checked against RDKit's list."""
        _, _, Descriptors, _ = _rdkit()
        valid = [name for name, _ in Descriptors.descList]
        if self.descriptors == "all":
            names = valid
        elif self.descriptors == "fast":
            names = [n for n in valid if n not in COSTLY_DESCRIPTORS]
        else:
            names = [str(n) for n in self.descriptors]
            unknown = sorted(set(names) - set(valid))
            if unknown:
                raise ValueError(
                    f"descriptors contains names unknown to RDKit: {unknown}; "
                    "see rdkit.Chem.Descriptors.descList."
                )
            if len(set(names)) != len(names):
                raise ValueError("descriptors must not repeat a name.")
        if not names and self.morgan_bits == 0:
            raise ValueError(
                "RDKitDescriptorFeaturizer: no features requested "
                "(descriptors is empty and morgan_bits=0)."
            )
        return names

    def _cache_path(self, names):
        """The descriptor cache file for ``names`` (None without ``cache_dir``)."""
        if self.cache_dir is None or not names:
            return None
        _, rdBase, _, _ = _rdkit()
        digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
        name = f"rdkit-{rdBase.rdkitVersion}-descriptors-{digest}.sqlite"
        return Path(self.cache_dir).expanduser() / name

    def _raw(self, smiles):
        path = getattr(self, "cache_path_", None)
        store = None if path is None else EmbeddingStore(path, dtype="<f8")
        desc = _descriptor_matrix(smiles, self.descriptor_names_, self, store)
        fp = _morgan_matrix(
            smiles, self.morgan_radius, self.morgan_bits, self.counts, self
        )
        return desc, fp

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> RDKitDescriptorFeaturizer:
        """Compute the features of ``X`` and learn which columns to keep and scale.

        Parameters
        ----------
        {smiles_X}
        y : None
            Ignored.

        Returns
        -------
        self : RDKitDescriptorFeaturizer
            Fitted featurizer.
        """
        names = self._descriptor_names()
        smiles = _check_smiles(X, estimator=self)
        if len(smiles) == 0:
            raise ValueError("RDKitDescriptorFeaturizer: X has no rows.")
        _input_features(self, X, reset=True)
        self.descriptor_names_ = list(names)
        self.cache_path_ = self._cache_path(self.descriptor_names_)
        desc, fp = self._raw(smiles)

        finite = np.isfinite(desc).all(axis=0)
        self.dropped_nonfinite_ = [n for n, ok in zip(names, finite) if not ok]
        big = finite & (
            np.abs(np.where(np.isfinite(desc), desc, 0)).max(axis=0, initial=0)
            > LOG_THRESHOLD
        )
        self._log_mask = big
        self.log_scaled_ = [n for n, b in zip(names, big) if b]
        raw = np.hstack([self._log(desc), fp])
        all_names = list(names) + list(_morgan_names(fp.shape[1]))
        keep = np.concatenate([finite, np.ones(fp.shape[1], dtype=bool)])
        std = np.zeros(raw.shape[1])
        std[keep] = raw[:, keep].std(axis=0)
        constant = keep & ~(std > 1e-12 * np.maximum(1.0, np.abs(raw).max(axis=0)))
        self.dropped_constant_ = [n for n, c in zip(all_names, constant) if c]
        keep &= ~constant
        if not keep.any():
            raise ValueError(
                "RDKitDescriptorFeaturizer: every feature is constant (or "
                f"non-finite) on the {len(smiles)} fit molecule(s); fit on more "
                "varied molecules."
            )
        self.columns_ = np.flatnonzero(keep)
        self._kept_names = np.asarray(
            [all_names[j] for j in self.columns_], dtype=object
        )
        kept = raw[:, self.columns_]
        if self.standardize:
            self.mean_ = kept.mean(axis=0)
            self.scale_ = kept.std(axis=0)
        else:
            self.mean_ = np.zeros(kept.shape[1])
            self.scale_ = np.ones(kept.shape[1])
        self._fit_mean = kept.mean(axis=0)
        self.n_features_out_ = int(kept.shape[1])
        return self

    def _log(self, desc):
        desc = desc.copy()
        m = self._log_mask
        desc[:, m] = np.sign(desc[:, m]) * np.log1p(np.abs(desc[:, m]))
        return desc

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Featurize SMILES strings.

        Parameters
        ----------
        X : array-like of str of shape (n_samples,) or (n_samples, 1)
            SMILES strings (or a one-column DataFrame), cached per molecule.

        Returns
        -------
        Z : ndarray of float64 of shape (n_samples, `n_features_out_`)
            Standardised (and clipped) features.
        """
        check_is_fitted(self)
        smiles = _check_smiles(X, estimator=self)
        desc, fp = self._raw(smiles)
        with np.errstate(invalid="ignore", over="ignore"):
            raw = np.hstack([self._log(desc), fp])
        Z = raw[:, self.columns_]
        bad = ~np.isfinite(Z)
        if bad.any():
            Z[bad] = np.broadcast_to(self._fit_mean, Z.shape)[bad]
        Z = (Z - self.mean_) / self.scale_
        if self.standardize:
            np.clip(Z, -CLIP, CLIP, out=Z)
        return Z

    def _names_out(self):
        check_is_fitted(self)
        return self._kept_names.copy()


@fill_doc
class MorganFingerprintFeaturizer(_SmilesMixin, TransformerMixin, BaseEstimator):
    """Weak molecular representation: a Morgan fingerprint folded to few bits.

    Each SMILES becomes its Morgan (ECFP-like) fingerprint folded (bit index
    modulo ``n_bits``) to a short vector; ``n_bits`` in ``{8, 12, ..., 96}``
    gives a family of weak representations of increasing capacity, cheaper
    than :class:`SmilesTransformerFeaturizer`. Stateless: ``fit`` only
    validates.

    Parameters
    ----------
    n_bits : int, default=16
        Length of the folded fingerprint.
    radius : int, default=2
        Morgan radius.
    counts : bool, default=True
        Counts of each folded bit if True, presence bits if False.

    Attributes
    ----------
    {smiles_in}

    See Also
    --------
    RDKitDescriptorFeaturizer : The strong representation.

    Examples
    --------
    >>> from skwtsg.featurizers import MorganFingerprintFeaturizer
    >>> Z = MorganFingerprintFeaturizer(n_bits=8).fit_transform(["CCO", "c1ccccc1"])
    >>> Z.shape
    (2, 8)
    """

    _parameter_constraints: dict = {
        "n_bits": [Interval(Integral, 1, None, closed="left")],
        "radius": [Interval(Integral, 0, None, closed="left")],
        "counts": ["boolean"],
    }

    def __init__(
        self, n_bits: int = 16, *, radius: int = 2, counts: bool = True
    ) -> None:
        self.n_bits = n_bits
        self.radius = radius
        self.counts = counts

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> MorganFingerprintFeaturizer:
        """Validate the parameters and ``X``; nothing is learned.

        Parameters
        ----------
        {smiles_X}
        y : None
            Ignored: the featurizer is stateless.

        Returns
        -------
        self : MorganFingerprintFeaturizer
            The featurizer.
        """
        _check_smiles(X, estimator=self)
        _input_features(self, X, reset=True)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Folded Morgan fingerprints of SMILES strings.

        Parameters
        ----------
        {smiles_X}

        Returns
        -------
        Z : ndarray of float64 of shape (n_samples, n_bits)
            Counts (or 0/1 bits) of each folded substructure.
        """
        self._validate_params()
        smiles = _check_smiles(X, estimator=self)
        return _morgan_matrix(smiles, self.radius, self.n_bits, self.counts, self)

    def _names_out(self):
        self._validate_params()  # stateless: the parameters are checked here
        return _morgan_names(self.n_bits)

    def __sklearn_is_fitted__(self):
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags
