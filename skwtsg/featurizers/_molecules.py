"""RDKit featurizers of SMILES strings: descriptors + Morgan fingerprints.

RDKit is an optional dependency (``pip install skwtsg[chem]``), imported only
when a featurizer is fitted or used.

Both featurizers keep a module-level cache of the raw features of each
molecule, keyed by the SMILES string and the settings, so a molecule is
parsed and described once per process however many times a featurizer is
refitted (the molecule experiment refits the strong featurizer dozens of
times on the same SMILES).
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
from .._utils._validation import check_string_column

__all__ = ["RDKitDescriptorFeaturizer", "MorganFingerprintFeaturizer"]

#: Standardised values are clipped to this many fit standard deviations.
CLIP = 10.0
#: Descriptor columns whose fit-data magnitude exceeds this are log-scaled.
LOG_THRESHOLD = 1e6
#: RDKit descriptors whose cost grows steeply with molecule size: both go
#: through the characteristic polynomial of the distance matrix. On a
#: 400-carbon chain (``"C" * 400``, RDKit 2026.09) ``Ipc`` took 41 s and
#: ``AvgIpc`` 30 s, every other descriptor together under 4 s; on a
#: drug-sized molecule they are as cheap as the others.
#: ``descriptors="fast"`` leaves them out.
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
    """Return the hits, misses and size of the per-molecule feature cache.

    Returns
    -------
    info : dict
        ``{"hits": int, "misses": int, "size": int}``.

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


def _parse(smiles, estimator=None) -> list:
    """RDKit molecules of ``smiles``; ValueError naming the first bad row."""
    Chem, rdBase, _, _ = _rdkit()
    mols = []
    with rdBase.BlockLogs():
        for i, s in enumerate(smiles):
            mol = Chem.MolFromSmiles(s)
            if mol is None or mol.GetNumAtoms() == 0:
                raise _invalid(i, s, estimator)
            mols.append(mol)
    return mols


def _cached_rows(smiles, key, compute, estimator=None, store=None) -> list:
    """Cached ``compute(mol)`` of each SMILES under ``(key, smiles)``.

    In-process first (``MOLECULE_FEATURES``); with a ``store``
    (:class:`~skwtsg._utils._cache.EmbeddingStore` of float64 rows keyed by
    SMILES), the rows missing in-process are read from it, and the rows
    computed here are written to it.
    """
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
    """Raw RDKit descriptors, shape (n, len(names)); NaN where RDKit fails.

    ``store``: a persistent cache of the rows (see :func:`_cached_rows`).
    """
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


def _string_tags(tags):
    tags.input_tags.string = True
    tags.input_tags.two_d_array = False
    tags.input_tags.one_d_array = True
    return tags


# ---------------------------------------------------------------------------
# Featurizers
# ---------------------------------------------------------------------------


class RDKitDescriptorFeaturizer(TransformerMixin, BaseEstimator):
    """Strong molecular representation: RDKit 2-D descriptors + Morgan counts.

    Each SMILES string becomes the vector of RDKit's 2-D descriptors
    (``rdkit.Chem.Descriptors.descList``, 217 in RDKit 2026.09) followed by
    its Morgan count fingerprint, and the columns are standardised with
    statistics learned in ``fit``.

    This is a stand-in for the strong representation of Charikar et al.
    (2024), section 5.2, which used the MolBERT transformer pretrained on
    GuacaMol (BERT-base size). Those weights cannot be obtained here; any
    transformer of SMILES a user supplies (their own MolBERT embeddings, a
    ``FunctionTransformer`` that looks them up, ...) is a drop-in
    replacement wherever this class is used.

    Raw features are cached per molecule (module-level dictionary keyed by
    SMILES and settings), so refitting on the same molecules is cheap; see
    :func:`cache_info`.

    Parameters
    ----------
    descriptors : {"all", "fast"} or list of str, default="all"
        Names of RDKit descriptors to compute (names from
        ``rdkit.Chem.Descriptors.descList``). ``"all"`` computes every
        descriptor; ``"fast"`` every descriptor except the two whose cost
        grows steeply with molecule size, ``Ipc`` and ``AvgIpc`` (see
        Notes), for very large molecules. An empty list uses only the fingerprint.
    morgan_radius : int, default=2
        Radius of the Morgan fingerprint (2 is ECFP4-like).
    morgan_bits : int, default=2048
        Length of the folded fingerprint; 0 uses only the descriptors.
    counts : bool, default=True
        Count fingerprint (number of occurrences of each folded
        substructure) if True, bit fingerprint if False.
    standardize : bool, default=True
        Centre and scale every kept column with its fit mean and standard
        deviation, then clip to ``[-10, 10]``.
    cache_dir : str, path-like or None, default=None
        Folder of a persistent cache of the raw descriptors of each molecule
        (float64, bitwise what RDKit computed): one sqlite file per RDKit
        version and descriptor list,
        ``<cache_dir>/rdkit-<version>-descriptors-<hash>.sqlite``, safe for
        several processes at once. A later fit or transform on cached
        molecules, in any process, reads them instead of computing them
        again. ``None`` disables it. A cache that cannot be written only
        raises a warning.

    Attributes
    ----------
    n_features_in_ : int
        Always 1 (one SMILES per row).
    feature_names_in_ : ndarray of shape (1,)
        Column name, when ``X`` was a DataFrame with a string column name.
    descriptor_names_ : list of str
        Descriptors requested.
    dropped_nonfinite_ : list of str
        Descriptors dropped because at least one fit molecule has a
        non-finite value (RDKit failure, NaN or infinity).
    log_scaled_ : list of str
        Descriptors whose fit-data magnitude exceeds ``1e6`` (e.g. ``Ipc``):
        they are mapped through ``sign(x) * log1p(|x|)`` before scaling.
    dropped_constant_ : list of str
        Columns (descriptors or fingerprint bits) constant on the fit data,
        dropped.
    columns_ : ndarray of int
        Indices, among the raw columns, of the kept columns.
    mean_ : ndarray of shape (n_features_out,)
        Fit mean of each kept column (0 when ``standardize=False``).
    scale_ : ndarray of shape (n_features_out,)
        Fit standard deviation of each kept column (1 when
        ``standardize=False``).
    n_features_out_ : int
        Number of output columns.
    cache_path_ : pathlib.Path or None
        The sqlite file of the descriptor cache, or None when it is disabled.

    See Also
    --------
    MorganFingerprintFeaturizer : Cheap, small folded fingerprints.
    SmilesTransformerFeaturizer : Small SMILES transformer, pretrained in fit.

    Notes
    -----
    Non-finite values: a descriptor column with a non-finite value on the
    fit molecules is dropped (``dropped_nonfinite_``). At transform time, a
    non-finite value in a kept column is replaced by that column's fit mean
    (0 after standardisation). Extreme values: descriptors larger than
    ``1e6`` in magnitude are log-scaled (``log_scaled_``), and standardised
    values are clipped to ``[-10, 10]`` so that a rare fingerprint bit or
    an outlying molecule cannot dominate a linear head.

    Invalid SMILES raise a ``ValueError`` naming the row index and the
    string. Leading and trailing whitespace is stripped.

    Cost: all 217 descriptors take 3 to 8 ms per molecule (about 30 s of CPU
    for the 3780 training and test molecules of Lipop), once per process
    thanks to the cache; a refit on cached molecules takes well under a
    second. Two descriptors, ``Ipc`` and ``AvgIpc`` (information content of
    the characteristic polynomial of the distance matrix), grow steeply
    with the number of atoms: on a 400-carbon chain (``"C" * 400``) they
    took about 41 s and 30 s, while the 215 others took under 4 s together (the
    next costliest, ``BCUT2D_MWHI``, ``BalabanJ``, ``BertzCT`` and the
    E-state indices, about 0.5 s each). ``descriptors="fast"`` skips those
    two; the default ``"all"`` keeps them, so results do not change.

    References
    ----------
    .. [1] Charikar, M., Pabbaraju, C. & Shiragur, K. (2024). Quantifying the
       Gain in Weak-to-Strong Generalization. NeurIPS.
    .. [2] Fabian, B. et al. (2020). Molecular representation learning with
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
        X : array-like of str of shape (n_samples,) or (n_samples, 1)
            SMILES strings (or a one-column DataFrame).
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
        self._names_out = np.asarray(
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
            SMILES strings (or a one-column DataFrame).

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

    def get_feature_names_out(
        self, input_features: ArrayLike | None = None
    ) -> np.ndarray:
        """Names of the output columns (descriptor names, then ``morgan_<bit>``).

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        feature_names_out : ndarray of str
            One name per output column.
        """
        check_is_fitted(self)
        return self._names_out.copy()

    def __sklearn_tags__(self):
        return _string_tags(super().__sklearn_tags__())


class MorganFingerprintFeaturizer(TransformerMixin, BaseEstimator):
    """Weak molecular representation: a Morgan fingerprint folded to few bits.

    Each SMILES becomes its Morgan (ECFP-like) fingerprint folded (bit index
    modulo ``n_bits``) to a short vector: with ``n_bits`` in
    ``{8, 12, 16, 24, 32, 48, 64, 96}`` this is a family of weak
    representations of increasing capacity, much cheaper than the paper's
    small pretrained transformers (see :class:`SmilesTransformerFeaturizer`).
    Stateless: ``fit`` only validates the parameters.

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
    n_features_in_ : int
        Always 1 (one SMILES per row).
    feature_names_in_ : ndarray of shape (1,)
        Column name, when ``X`` was a DataFrame with a string column name.

    See Also
    --------
    RDKitDescriptorFeaturizer : The strong representation.

    Notes
    -----
    Invalid SMILES raise a ``ValueError`` naming the row index and the
    string. Fingerprints are cached per molecule (see :func:`cache_info`).

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
        X : array-like of str of shape (n_samples,) or (n_samples, 1)
            SMILES strings.
        y : None
            Ignored.

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
        X : array-like of str of shape (n_samples,) or (n_samples, 1)
            SMILES strings.

        Returns
        -------
        Z : ndarray of float64 of shape (n_samples, n_bits)
            Counts (or 0/1 bits) of each folded substructure.
        """
        self._validate_params()
        smiles = _check_smiles(X, estimator=self)
        return _morgan_matrix(smiles, self.radius, self.n_bits, self.counts, self)

    def get_feature_names_out(
        self, input_features: ArrayLike | None = None
    ) -> np.ndarray:
        """Names of the output columns, ``morgan_0`` ... ``morgan_<n_bits-1>``.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        feature_names_out : ndarray of str
            One name per bit.
        """
        self._validate_params()  # stateless: the parameters are checked here
        return _morgan_names(self.n_bits)

    def __sklearn_is_fitted__(self):
        return True

    def __sklearn_tags__(self):
        tags = _string_tags(super().__sklearn_tags__())
        tags.requires_fit = False
        return tags
