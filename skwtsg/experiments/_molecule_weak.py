"""The molecule experiment's weak models: each size pretrained once, then frozen.

The paper pretrains each weak transformer size once, on one corpus
(GuacaMol), and uses it for every data set and split. Here the corpus is
RDKit's NCI 5K molecules plus the SMILES of ESOL, FreeSolv and Lipop (no
label): fixed, label-free and the same for every split.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils import check_random_state

__all__ = [
    "CORPUS_DATASETS",
    "pretraining_corpus",
    "dataset_smiles",
    "pretrain_weak_transformers",
    "StoredEmbeddings",
]

#: The data sets whose SMILES (never their labels) join the corpus.
CORPUS_DATASETS = ("ESOL", "FreeSolv", "Lipop")
#: What the corpus is, said in the report.
CORPUS_TEXT = (
    "RDKit's NCI 5K molecules plus the SMILES of ESOL, FreeSolv and Lipop "
    "(every split, no label), unique"
)


def pretraining_corpus(data_home: str | os.PathLike | None = None) -> np.ndarray:
    """The one pretraining corpus of the weak transformers: unique SMILES, sorted.

    RDKit's NCI 5K molecules (shipped with RDKit) and the SMILES of every
    row of ESOL, FreeSolv and Lipop, whatever data sets or splits a run
    uses: the corpus carries no label and does not depend on the split, so
    each weak size is pretrained once for every data set and split (the
    paper's protocol, on GuacaMol). The test molecules' SMILES are in it,
    unlabeled, as they may be in any large public corpus.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Where the molecule files are; see
        :func:`skwtsg.datasets.get_data_home`.

    Returns
    -------
    smiles : ndarray of object of shape (n_smiles,)

    Examples
    --------
    >>> from skwtsg.experiments._molecule_weak import pretraining_corpus
    >>> len(pretraining_corpus())  # doctest: +SKIP
    10606
    """
    from ..featurizers._smiles import _nci_smiles

    return _unique(np.concatenate([dataset_smiles(data_home), _nci_smiles()]))


def dataset_smiles(data_home: str | os.PathLike | None = None) -> np.ndarray:
    """The unique SMILES of ESOL, FreeSolv and Lipop, sorted (no label).

    The molecules whose weak embeddings are computed once, right after each
    pretraining, whatever data sets a run uses.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Where the molecule files are.

    Returns
    -------
    smiles : ndarray of object of shape (n_smiles,)

    Examples
    --------
    >>> from skwtsg.experiments._molecule_weak import dataset_smiles
    >>> len(dataset_smiles())  # doctest: +SKIP
    5606
    """
    from ..datasets._molecules import fetch_molecules

    sets = [
        fetch_molecules(name, data_home=data_home).smiles for name in CORPUS_DATASETS
    ]
    return _unique(np.concatenate(sets))


def _unique(smiles: ArrayLike) -> np.ndarray:
    return np.unique(np.asarray(smiles, dtype=str)).astype(object)


class StoredEmbeddings(FrozenEstimator):
    """A frozen fitted SMILES featurizer with the embeddings of known SMILES kept.

    ``transform`` returns the stored rows of the SMILES it has (computed by
    the featurizer once, right after its fit) and transforms only the
    others, so that a representation used by many data sets and splits
    transforms each molecule once.

    Parameters
    ----------
    estimator : transformer
        A fitted featurizer of SMILES whose rows do not depend on each other.
    smiles : array-like of str of shape (n_smiles,)
        The molecules of ``embeddings``.
    embeddings : ndarray of shape (n_smiles, n_features)
        ``estimator.transform(smiles)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skwtsg.experiments._molecule_weak import StoredEmbeddings
    >>> length = FunctionTransformer(lambda X: np.char.str_len(
    ...     np.asarray(X, dtype=str)).astype(float)).fit([["C"]])
    >>> stored = StoredEmbeddings(length, ["CCO"], np.array([[30.0]]))
    >>> stored.transform(np.array([["CCO"], ["CC"]], dtype=object)).ravel().tolist()
    [30.0, 2.0]
    """

    def __init__(self, estimator: Any, smiles: ArrayLike, embeddings: Any) -> None:
        super().__init__(estimator)
        self.smiles = smiles
        self.embeddings = embeddings

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The embedding of each SMILES of ``X``: stored, or computed.

        Parameters
        ----------
        X : array-like of str of shape (n_samples,) or (n_samples, 1)
            SMILES strings.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features)
        """
        from ..featurizers._molecules import _check_smiles

        smiles = _check_smiles(X)
        index = self.__dict__.get("_index")
        if index is None:
            index = self.__dict__["_index"] = {
                s: i for i, s in enumerate(np.asarray(self.smiles, dtype=object))
            }
        stored = np.asarray(self.embeddings)
        rows = np.array([index.get(s, -1) for s in smiles], dtype=np.intp)
        Z = np.empty((len(smiles), stored.shape[1]), dtype=stored.dtype)
        known = rows >= 0
        Z[known] = stored[rows[known]]
        if not known.all():
            new = smiles[~known].reshape(-1, 1)
            Z[~known] = self.estimator.transform(new)
        return Z


def pretrain_weak_transformers(
    sizes: Sequence[int],
    corpus: ArrayLike,
    embed: ArrayLike,
    *,
    weak_params: dict | None = None,
    cache_dir: str | os.PathLike | None = None,
    random_state: int | np.random.RandomState | None = 0,
    n_jobs: int = 2,
    strong_featurizer: Any = None,
) -> tuple[dict[str, StoredEmbeddings], dict]:
    """Pretrain one SMILES transformer per size on ``corpus``, once, and freeze it.

    Parameters
    ----------
    sizes : sequence of int
        Hidden sizes (even).
    corpus : array-like of str
        The unlabeled pretraining SMILES (:func:`pretraining_corpus`).
    embed : array-like of str
        SMILES embedded right after each pretraining and kept
        (:class:`StoredEmbeddings`): the molecules of the data sets.
    weak_params : dict or None, default=None
        Further parameters of every
        :class:`~skwtsg.featurizers.SmilesTransformerFeaturizer` (defaults:
        2 epochs, 1 torch thread, no extra SMILES beyond ``corpus``).
    cache_dir : str, path-like or None, default=None
        A ``joblib.Memory`` folder keeping each pretraining (and its
        embeddings), keyed by the featurizer's parameters (size and seed
        included), the corpus, the embedded SMILES, the versions of the
        libraries and the sha256 of the featurizer's sources; ``None``:
        no cache.
    random_state : int, RandomState instance or None, default=0
        Draws one seed per size, in the order of ``sizes``.
    n_jobs : int, default=2
        Processes. Each gets one task, a group of sizes of about equal cost
        (see Notes).
    strong_featurizer : transformer or None, default=None
        A featurizer with a persistent cache of its rows (e.g.
        :class:`~skwtsg.featurizers.RDKitDescriptorFeaturizer` with a
        ``cache_dir``): when some size is pretrained, it is also fitted on
        ``embed`` in those processes, in the group of least cost, so that
        its cache is filled while the other process pretrains (the run then
        loads its rows instead of computing them alone). Its fit is
        discarded.

    Returns
    -------
    weak : dict of str to StoredEmbeddings
        Keyed ``f"hidden={k}"``.
    info : dict
        ``pretrained`` (pretrainings run now), ``loaded`` (found in the
        cache), ``seconds``, ``n_corpus``, ``n_embedded``, ``epochs`` and
        ``corpus`` (what it is).

    Notes
    -----
    joblib's process workers (loky) measure their memory after their first
    task and restart a worker whose memory grew by 300 MB since then,
    warning "A worker stopped while some jobs were given to the executor
    ... memory leak". A pretraining grows a process's memory by several
    hundred MB (torch's activations, kept by the allocator), so a worker
    given several pretrainings one by one was restarted mid-run, with that
    warning. Here each worker gets one task only (its whole group of
    sizes), so the check never runs; nothing is filtered.
    """
    from .._utils import _torch
    from .._utils._cache import code_fingerprint, fit_memory
    from ..featurizers._smiles import SmilesTransformerFeaturizer

    start = time.perf_counter()
    rng = check_random_state(random_state)
    corpus = _unique(corpus)
    embed = _unique(embed)
    params = {"n_threads": 1, "extra_smiles": None, **(weak_params or {})}
    featurizers = {
        f"hidden={k}": SmilesTransformerFeaturizer(
            k, **{"random_state": int(rng.randint(np.iinfo(np.int32).max)), **params}
        )
        for k in sizes
    }
    fingerprint = code_fingerprint(SmilesTransformerFeaturizer, _torch.__file__)
    fit = _pretrain if cache_dir is None else fit_memory(cache_dir).cache(_pretrain)
    fitted: dict[str, Any] = {}
    todo = []
    for label, featurizer in featurizers.items():
        args = (featurizer, corpus, embed, fingerprint)
        if hasattr(fit, "check_call_in_cache") and fit.check_call_in_cache(*args):
            fitted[label] = fit(*args)  # a load
        else:
            todo.append(label)
    jobs: dict[str, tuple[Any, tuple]] = {
        label: (fit, (featurizers[label], corpus, embed, fingerprint)) for label in todo
    }
    costs = {label: _pretrain_cost(featurizers[label].hidden_size) for label in todo}
    if todo and strong_featurizer is not None:
        jobs["strong"] = (_fill_cache, (strong_featurizer, embed))
        costs["strong"] = _FILL_COST_PER_SMILES * len(embed)
    groups = _balanced_groups(list(jobs), list(costs.values()), n_jobs)
    if groups:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=len(groups))(
            delayed(_run_group)([jobs[label] for label in group]) for group in groups
        )
        for group, result in zip(groups, results):
            fitted.update(zip(group, result))
    weak = {
        label: StoredEmbeddings(fitted[label][0], embed, fitted[label][1])
        for label in featurizers
    }
    info = {
        "pretrained": len(todo),
        "loaded": len(featurizers) - len(todo),
        "seconds": time.perf_counter() - start,
        "n_corpus": len(corpus),
        "n_embedded": len(embed),
        "epochs": int(featurizers[next(iter(featurizers))].max_epochs),
        "corpus": CORPUS_TEXT,
    }
    return weak, info


def _pretrain(featurizer, corpus, embed, fingerprint=None):
    """``clone(featurizer).fit(corpus)`` and its embeddings of ``embed``.

    ``fingerprint`` is not used: it is part of the cache's key.
    """
    fitted = clone(featurizer).fit(corpus)
    return fitted, fitted.transform(embed)


def _fill_cache(featurizer, smiles):
    """Fit ``featurizer`` on ``smiles`` for its persistent cache's sake."""
    clone(featurizer).fit(np.asarray(smiles, dtype=object).reshape(-1, 1))


def _run_group(jobs):
    """One worker's task: its group of jobs ``(func, args)``, one after the other."""
    return [func(*args) for func, args in jobs]


#: Seconds per molecule of the RDKit descriptors (about 25 s for the 5,745
#: molecules of the three sets), in the units of :func:`_pretrain_cost`.
_FILL_COST_PER_SMILES = 0.0045


def _pretrain_cost(size):
    """A pretraining's cost in seconds: a fixed part (tokenising, the descriptor
    targets) plus a part growing with the size (about 7 s and 21 s for sizes
    8 and 96 on 11,000 SMILES)."""
    return 5.5 + 0.16 * size


def _balanced_groups(labels, costs, n_groups):
    """``labels`` in at most ``n_groups`` groups of about equal total cost.

    Largest first, each to the cheapest group so far.
    """
    n_groups = max(1, min(int(n_groups), len(labels)))
    groups: list[list[str]] = [[] for _ in range(n_groups)]
    loads = [0.0] * n_groups
    for label, cost in sorted(zip(labels, costs), key=lambda t: -t[1]):
        g = int(np.argmin(loads))
        groups[g].append(label)
        loads[g] += cost
    return [g for g in groups if g]
