"""A small SMILES transformer, pretrained MolBERT-style in ``fit``.

torch and RDKit (``pip install skwtsg[chem]``) are imported when it is used.
"""

from __future__ import annotations

import os
import re
import time
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context

from .._utils._cache import NCI_SMILES
from .._utils._docstrings import fill_doc
from .._utils._torch import (
    _import_torch,
    _optimize,
    _resolve_device,
    _seed_from,
    _torch_seeded,
    _torch_threads,
    _TorchParamsMixin,
)
from ._molecules import (
    _check_smiles,
    _descriptor_matrix,
    _input_features,
    _rdkit,
    _string_tags,
)

__all__ = ["SmilesTransformerFeaturizer", "smiles_tokenize"]

#: Regular expression of SMILES tokens (Schwaller et al., 2019): bracket
#: atoms, two-letter halogens, ring-closure labels ``%nn``, then any single
#: character (the last alternative keeps unknown characters as tokens).
SMILES_REGEX = re.compile(
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?"
    r"|>|\*|\$|%[0-9]{2}|[0-9]|.)"
)
_SPECIALS = ("<pad>", "<unk>", "<mask>")
_PAD, _UNK, _MASK = 0, 1, 2
_DEFAULT_DESCRIPTORS = (
    "MolLogP",
    "MolWt",
    "TPSA",
    "NumHDonors",
    "NumHAcceptors",
    "RingCount",
)
#: Architecture defaults of the ``module__*`` parameters.
_MODULE_DEFAULTS = {"n_layers": 2, "n_heads": 2, "dim_feedforward": None}
_MODULE_CONSTRAINTS: dict = {
    "module__n_layers": [Interval(Integral, 1, None, closed="left")],
    "module__n_heads": [Interval(Integral, 1, None, closed="left")],
    "module__dim_feedforward": [Interval(Integral, 1, None, closed="left"), None],
}


def smiles_tokenize(smiles: str) -> list[str]:
    """Split a SMILES string into tokens (atoms, bonds, rings, branches).

    Parameters
    ----------
    smiles : str
        A SMILES string.

    Returns
    -------
    tokens : list of str
        Tokens whose concatenation is ``smiles``.

    Examples
    --------
    >>> from skwtsg.featurizers._smiles import smiles_tokenize
    >>> smiles_tokenize("C[C@@H](Cl)c1ccccc1Br")
    ['C', '[C@@H]', '(', 'Cl', ')', 'c', '1', 'c', 'c', 'c', 'c', 'c', '1', 'Br']
    """
    return SMILES_REGEX.findall(smiles)


def _nci_smiles():
    """Valid SMILES of the 5000 NCI molecules shipped with RDKit (cached)."""
    if "smiles" not in NCI_SMILES:
        Chem, rdBase, _, _ = _rdkit()
        from rdkit import RDConfig

        path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
        out = []
        with open(path) as f, rdBase.BlockLogs():
            for line in f:
                fields = line.split()
                if not fields:
                    continue
                mol = Chem.MolFromSmiles(fields[0])
                if mol is not None and mol.GetNumAtoms() > 0:
                    out.append(fields[0])
        NCI_SMILES["smiles"] = np.asarray(out, dtype=object)
    return NCI_SMILES["smiles"]


def __getattr__(name):
    # The torch module class is created on first use (torch is imported
    # lazily); pickle finds it here by name.
    if name == "SmilesEncoder":
        return _encoder_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CLASSES: dict = {}


def _encoder_class():
    if "encoder" in _CLASSES:
        return _CLASSES["encoder"]
    torch = _import_torch()
    nn = torch.nn

    class SmilesEncoder(nn.Module):
        """Token + position embeddings, a pre-norm transformer encoder, heads."""

        def __init__(
            self,
            vocab_size,
            hidden_size,
            n_layers,
            n_heads,
            max_length,
            n_descriptors,
            dim_feedforward,
        ):
            super().__init__()
            self.token = nn.Embedding(vocab_size, hidden_size, padding_idx=_PAD)
            self.position = nn.Embedding(max_length, hidden_size)
            layer = nn.TransformerEncoderLayer(
                hidden_size,
                n_heads,
                dim_feedforward=dim_feedforward,
                dropout=0.0,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            self.encoder = nn.TransformerEncoder(
                layer, n_layers, enable_nested_tensor=False
            )
            self.norm = nn.LayerNorm(hidden_size)
            self.mlm = nn.Linear(hidden_size, vocab_size)
            self.descriptors = (
                nn.Linear(hidden_size, n_descriptors) if n_descriptors else None
            )

        def hidden(self, ids):
            """Final hidden states (batch, length, hidden) and the padding mask."""
            pad = ids == _PAD
            positions = torch.arange(ids.shape[1], device=ids.device)
            h = self.token(ids) + self.position(positions)[None]
            h = self.encoder(h, src_key_padding_mask=pad)
            return self.norm(h), pad

        @staticmethod
        def pool(h, pad):
            keep = (~pad).unsqueeze(-1).to(h.dtype)
            return (h * keep).sum(1) / keep.sum(1).clamp(min=1.0)

    SmilesEncoder.__module__ = __name__
    SmilesEncoder.__qualname__ = "SmilesEncoder"
    _CLASSES["encoder"] = SmilesEncoder
    return SmilesEncoder


@fill_doc
class SmilesTransformerFeaturizer(
    _TorchParamsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Small SMILES transformer pretrained MolBERT-style in ``fit``: a weak family.

    ``fit`` builds a token vocabulary and pretrains a transformer encoder
    (``hidden_size`` wide) for ``max_epochs`` epochs on the unlabeled SMILES
    ``X`` (plus, by default, the 5000 NCI molecules shipped with RDKit) with
    two objectives summed: BERT's masked-token prediction (a fraction
    ``mask_prob`` of the tokens chosen; 80% masked, 10% random, 10% kept)
    and the regression of standardised RDKit descriptors from the pooled
    hidden states (MolBERT's auxiliary task). ``transform`` returns the mean
    of the final hidden states over the tokens. This is the recipe of the
    paper's weak models (section 5.2: 2 layers, 2 heads, hidden size 8 to
    96, 2 epochs) on a much smaller corpus, so that a fit takes seconds.
    ``y`` is never used.

    Parameters
    ----------
    hidden_size : int, default=16
        Width of the transformer, a multiple of ``module__n_heads``: the size
        of the weak family.
    max_epochs : int, default=2
        Passes over the pretraining corpus.
    batch_size : int, default=256
        SMILES per optimisation step.
    lr : float, default=2e-3
        Learning rate of Adam.
    max_length : int, default=100
        SMILES longer than this many tokens are truncated.
    mask_prob : float, default=0.15
        Fraction of tokens chosen for masked-token prediction.
    extra_smiles : "nci5k", None or array-like of str, default="nci5k"
        Unlabeled SMILES added to ``X`` for pretraining: ``"nci5k"`` is the
        parseable entries of RDKit's ``NCI/first_5K.smi``; ``None``: ``X``
        alone.
    descriptor_targets : tuple of str or None, default=("MolLogP", "MolWt", \
"TPSA", "NumHDonors", "NumHAcceptors", "RingCount")
        RDKit descriptors regressed during pretraining; ``None`` or ``()``
        trains on masked tokens alone.
    device : str, default="cpu"
        torch device (``"cpu"``, ``"cuda"``, ``"auto"``).
    n_threads : int or None, default=None
        torch intra-op CPU threads during ``fit`` and ``transform`` (restored
        afterwards; process-wide); ``None`` leaves torch's setting.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the masking and the batch order.
    verbose : int, default=0
        If positive, show a progress bar of the epochs.
    **kwargs : dict
        The architecture, as ``module__<name>=value`` parameters:
        ``module__n_layers`` (default 2), ``module__n_heads`` (default 2)
        and ``module__dim_feedforward`` (default ``None``: ``2 *
        hidden_size``).

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Token ids (``<pad>`` 0, ``<unk>`` 1, ``<mask>`` 2, then the corpus's
        tokens sorted); unknown tokens map to ``<unk>``.
    module_ : torch.nn.Module
        The pretrained encoder (in evaluation mode).
    loss_curve_ : list of float
        Training loss of every step.
    device_ : str
        The resolved device.
    n_iter_ : int
        Number of epochs run.
    n_pretrain_samples_ : int
        Size of the pretraining corpus.
    descriptor_mean_, descriptor_scale_ : ndarray of shape (n_descriptors,)
        Standardisation of the descriptor targets on the corpus.
    fit_time_ : float
        Seconds spent in ``fit``.
    {smiles_in}

    See Also
    --------
    RDKitDescriptorFeaturizer : The strong representation.
    MorganFingerprintFeaturizer : A cheaper weak family.

    Notes
    -----
    Invalid SMILES raise a ``ValueError`` naming the row. Dropout is 0 and
    torch's global random state is untouched, so a fit is deterministic
    given ``random_state`` (on one device and number of threads). Batches
    group SMILES of similar lengths; padding is masked, so an embedding
    does not depend on the other molecules transformed with it.

    References
    ----------
    .. [1] Fabian, B. et al. (2020). Molecular representation learning with
       language models and domain-relevant auxiliary tasks. arXiv:2011.13230.

    Examples
    --------
    >>> from skwtsg.featurizers import SmilesTransformerFeaturizer
    >>> smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC"] * 8
    >>> featurizer = SmilesTransformerFeaturizer(
    ...     8, max_epochs=1, extra_smiles=None, random_state=0
    ... ).fit(smiles)
    >>> featurizer.transform(smiles[:3]).shape
    (3, 8)
    """

    _parameter_constraints: dict = {
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "mask_prob": [Interval(Real, 0, 1, closed="right")],
        "extra_smiles": [StrOptions({"nci5k"}), "array-like", None],
        "descriptor_targets": [list, tuple, None],
        "device": [str],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_size: int = 16,
        *,
        max_epochs: int = 2,
        batch_size: int = 256,
        lr: float = 2e-3,
        max_length: int = 100,
        mask_prob: float = 0.15,
        extra_smiles: str | ArrayLike | None = "nci5k",
        descriptor_targets: tuple[str, ...] | list[str] | None = _DEFAULT_DESCRIPTORS,
        device: str = "cpu",
        n_threads: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        self.hidden_size = hidden_size
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.max_length = max_length
        self.mask_prob = mask_prob
        self.extra_smiles = extra_smiles
        self.descriptor_targets = descriptor_targets
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.__dict__.update(kwargs)

    # ------------------------------------------------------------- checks
    def _architecture(self) -> dict:
        """The encoder's ``module__*`` settings, with defaults, checked."""
        given = self._prefixed_params("module")
        unknown = sorted(set(given) - set(_MODULE_DEFAULTS))
        if unknown:
            raise ValueError(
                f"SmilesTransformerFeaturizer: unknown parameters "
                f"{['module__' + n for n in unknown]}; the architecture "
                f"parameters are {['module__' + n for n in _MODULE_DEFAULTS]}."
            )
        validate_parameter_constraints(
            _MODULE_CONSTRAINTS,
            {f"module__{n}": v for n, v in given.items()},
            caller_name=type(self).__name__,
        )
        arch = {**_MODULE_DEFAULTS, **given}
        if self.hidden_size % arch["n_heads"]:
            raise ValueError(
                "SmilesTransformerFeaturizer: hidden_size must be divisible by "
                f"module__n_heads; got hidden_size={self.hidden_size}, "
                f"module__n_heads={arch['n_heads']}."
            )
        if arch["dim_feedforward"] is None:
            arch["dim_feedforward"] = 2 * self.hidden_size
        return arch

    def _corpus_params(self):
        """The descriptor targets (checked against RDKit) and extra SMILES."""
        targets = tuple(self.descriptor_targets or ())
        _, _, Descriptors, _ = _rdkit()
        unknown = sorted(set(targets) - {n for n, _ in Descriptors.descList})
        if unknown:
            raise ValueError(
                "SmilesTransformerFeaturizer: descriptor_targets contains names "
                f"unknown to RDKit: {unknown}."
            )
        extra = self.extra_smiles
        if extra is None:
            extra = np.empty(0, dtype=object)
        elif isinstance(extra, str):  # "nci5k"
            extra = _nci_smiles()
        else:
            extra = _check_smiles(extra)
        return targets, extra

    # ------------------------------------------------------------ helpers
    def _encode(self, smiles):
        """Token ids (list of int arrays), truncated to ``max_length``."""
        vocab = self.vocabulary_
        return [
            np.fromiter(
                (vocab.get(t, _UNK) for t in smiles_tokenize(s)[: self.max_length]),
                dtype=np.int64,
            )
            for s in smiles
        ]

    @staticmethod
    def _pad(torch, seqs, device):
        length = max(1, max(len(s) for s in seqs))
        ids = np.zeros((len(seqs), length), dtype=np.int64)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
        return torch.from_numpy(ids).to(device)

    # ---------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> SmilesTransformerFeaturizer:
        """Pretrain the transformer on the unlabeled SMILES ``X`` (and extras).

        Parameters
        ----------
        {smiles_X}
        y : None
            Ignored: the representation never sees labels.

        Returns
        -------
        self : SmilesTransformerFeaturizer
            Fitted featurizer.
        """
        start = time.perf_counter()
        arch = self._architecture()
        targets, extra = self._corpus_params()
        smiles = _check_smiles(X, estimator=self)
        if len(smiles) == 0:
            raise ValueError("SmilesTransformerFeaturizer: X has no rows.")
        _input_features(self, X, reset=True)
        torch = _import_torch()
        self.device_ = device = _resolve_device(self.device)
        seed = _seed_from(self.random_state)

        # Descriptor targets (also checks that every SMILES of X parses).
        desc = _descriptor_matrix(smiles, targets, self)
        corpus = np.concatenate([smiles, extra])
        if len(extra):
            desc = np.vstack([desc, _descriptor_matrix(extra, targets)])
        with np.errstate(invalid="ignore"):
            self.descriptor_mean_ = np.nanmean(desc, axis=0) if targets else desc[0]
            scale = np.nanstd(desc, axis=0) if targets else desc[0]
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.descriptor_scale_ = scale
        desc = (desc - self.descriptor_mean_) / scale
        desc = np.clip(np.nan_to_num(desc, nan=0.0, posinf=0.0, neginf=0.0), -5, 5)

        tokens = sorted({t for s in corpus for t in smiles_tokenize(s)})
        self.vocabulary_ = {t: i for i, t in enumerate(_SPECIALS + tuple(tokens))}
        seqs = self._encode(corpus)
        n_vocab = len(self.vocabulary_)

        with _torch_seeded(seed, device):
            module = _encoder_class()(
                n_vocab,
                self.hidden_size,
                arch["n_layers"],
                arch["n_heads"],
                self.max_length,
                len(targets),
                arch["dim_feedforward"],
            ).to(device)
        desc_t = torch.as_tensor(desc, dtype=torch.float32)
        with _torch_threads(self.n_threads):
            self.loss_curve_ = self._pretrain(
                torch, module, seqs, desc_t, n_vocab, seed, device
            )
        module.eval()
        self.module_ = module
        self.n_iter_ = self.max_epochs
        self.n_pretrain_samples_ = len(seqs)
        self.fit_time_ = time.perf_counter() - start
        return self

    def _pretrain(self, torch, module, seqs, desc_t, n_vocab, seed, device):
        """Adam on masked tokens + descriptors; returns the loss of each step."""
        lengths = np.array([len(s) for s in seqs])

        def batches(generator):
            for batch in self._batches(torch, lengths, generator):
                ids = self._pad(torch, [seqs[i] for i in batch], "cpu")
                inputs, labels = self._mask(torch, ids, n_vocab, generator)
                target = desc_t[torch.from_numpy(batch)]
                yield inputs.to(device), labels.to(device), target.to(device)

        def loss_fn(inputs, labels, target):
            h, pad = module.hidden(inputs)
            chosen = labels != _PAD
            loss = torch.nn.functional.cross_entropy(
                module.mlm(h[chosen]), labels[chosen]
            )
            if module.descriptors is not None:
                pred = module.descriptors(module.pool(h, pad))
                loss = loss + torch.nn.functional.mse_loss(pred, target)
            return loss

        module.train()
        curve, _ = _optimize(
            [{"params": list(module.parameters())}],
            loss_fn,
            (),
            optimizer="adam",
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            tol=0.0,
            seed=seed,
            verbose=self.verbose,
            desc=f"SmilesTransformerFeaturizer(hidden_size={self.hidden_size})",
            batches=batches,
            record="step",
            fused=False,
        )
        return curve

    def _batches(self, torch, lengths, generator):
        """Shuffled batches of similar lengths: shuffled chunks of 16 batches,
        each sorted by length and cut, then the batches shuffled."""
        n, size = len(lengths), self.batch_size
        order = torch.randperm(n, generator=generator).numpy()
        batches = []
        for lo in range(0, n, 16 * size):
            chunk = order[lo : lo + 16 * size]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
        perm = torch.randperm(len(batches), generator=generator).numpy()
        return [batches[i] for i in perm]

    def _mask(self, torch, ids, n_vocab, generator):
        """BERT masking: returns (inputs, labels); label 0 = not predicted."""
        real = ids != _PAD
        u = torch.rand(ids.shape, generator=generator)
        chosen = (u < self.mask_prob) & real
        if not chosen.any():  # always predict at least one token
            first = real.nonzero()[0]
            chosen[first[0], first[1]] = True
        labels = torch.where(chosen, ids, torch.zeros_like(ids))
        v = torch.rand(ids.shape, generator=generator)
        random_ids = torch.randint(
            len(_SPECIALS), n_vocab, ids.shape, generator=generator
        )
        inputs = torch.where(chosen & (v < 0.8), torch.full_like(ids, _MASK), ids)
        inputs = torch.where(chosen & (v >= 0.8) & (v < 0.9), random_ids, inputs)
        return inputs, labels

    # ---------------------------------------------------------- transform
    def transform(self, X: ArrayLike) -> np.ndarray:
        """Mean-pooled final hidden states of the pretrained transformer.

        Parameters
        ----------
        X : array-like of str of shape (n_samples,) or (n_samples, 1)
            SMILES strings, as for :meth:`fit`.

        Returns
        -------
        Z : ndarray of float64 of shape (n_samples, hidden_size)
            One embedding per SMILES.
        """
        check_is_fitted(self)
        torch = _import_torch()
        smiles = _check_smiles(X, estimator=self)
        # Parse to reject invalid SMILES as fit does (cached per molecule).
        _descriptor_matrix(smiles, ("HeavyAtomCount",), self)
        seqs = self._encode(smiles)
        order = np.argsort([len(s) for s in seqs], kind="stable")
        out = np.empty((len(seqs), self.hidden_size))
        device = next(self.module_.parameters()).device
        self.module_.eval()
        with torch.no_grad(), _torch_threads(self.n_threads):
            for lo in range(0, len(seqs), 1024):
                idx = order[lo : lo + 1024]
                ids = self._pad(torch, [seqs[i] for i in idx], device)
                h, pad = self.module_.hidden(ids)
                out[idx] = self.module_.pool(h, pad).cpu().double().numpy()
        return out

    @property
    def _n_features_out(self):
        return self.hidden_size

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")

    def __sklearn_tags__(self):
        return _string_tags(super().__sklearn_tags__())
