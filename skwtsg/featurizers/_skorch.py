# mypy: allow-redefinition
"""A representation learned with skorch's training loop."""

from __future__ import annotations

import copy
import inspect
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from .._utils._docstrings import fill_doc
from .._utils._torch import (
    _DTYPES,
    _build_module,
    _gradient_optimizer_classes,
    _import_torch,
    _output_width,
    _resolve_device,
    _seed_from,
    _torch_dtype,
    _torch_seeded,
)
from ._torch import _TorchTransformerBase

__all__ = ["SkorchFeaturizer"]

_SKORCH_PREFIXES = (
    "module",
    "optimizer",
    "criterion",
    "iterator_train",
    "iterator_valid",
    "callbacks",
    "dataset",
    "compile",
)

#: skorch parameters the featurizer sets itself: the network it builds, and
#: those it declares in its own signature.
_OWN = frozenset(
    {"self", "module", "args", "kwargs", "optimizer", "lr", "max_epochs"}
    | {"batch_size", "device", "verbose", "train_split", "callbacks"}
)


def _skorch_names() -> frozenset[str]:
    """skorch's own ``NeuralNet`` parameters (``criterion``, ``iterator_train``,
    ``dataset``, ``warm_start``, ...), read from its signature so that a new
    skorch release's parameters are accepted too."""
    try:
        from skorch import NeuralNet
    except ImportError:  # pragma: no cover - skorch is an optional extra
        return frozenset()
    return frozenset(inspect.signature(NeuralNet.__init__).parameters) - _OWN


def _optimizer_class(optimizer):
    torch = _import_torch()
    if isinstance(optimizer, str):
        names = _gradient_optimizer_classes()
        if optimizer not in names:
            raise ValueError(
                f"`optimizer` must be one of {sorted(names)} or a torch "
                f"optimizer class, got {optimizer!r}."
            )
        return names[optimizer]
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer
    raise ValueError(
        "`optimizer` must be 'adam', 'adamw', 'sgd' or a torch.optim.Optimizer "
        f"class, got {optimizer!r}."
    )


@fill_doc
class SkorchFeaturizer(_TorchTransformerBase):
    """Learn a representation with skorch, then use it as a featurizer.

    ``fit(X, y)`` trains ``module`` followed by a linear output layer (one
    unit per column of ``y``) with :class:`skorch.NeuralNetRegressor` and the
    mean squared error; ``transform`` returns ``module``'s output. skorch's
    own parameters are accepted as skorch accepts them (``callbacks``,
    ``train_split``, ``criterion``, ``iterator_train__*``,
    ``callbacks__<name>__*``, ...), so validation-based early stopping and
    learning-rate schedulers work.

    As a ``strong_featurizer`` it would be trained on the weak labels; to
    pretrain it on its own data and keep it fixed, wrap it in
    :class:`PretrainedFeaturizer` (or wrap a fitted one in
    :class:`sklearn.frozen.FrozenEstimator`).

    Parameters
    ----------
    module : torch.nn.Module class or instance
        The representation ``h``, built as in :class:`TorchFeaturizer`.
    max_epochs : int, default=10
        Training epochs.
    lr : float, default=1e-3
        Learning rate.
    batch_size : int, default=128
        Mini-batch size (``-1``: full batch).
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, \
default="adam"
        The optimizer; ``optimizer__*`` parameters are passed to it.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the network and of the training data.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Where training and the forward pass run.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and the shuffling of mini-batches.
    verbose : int, default=0
        skorch's verbosity (1: a table of the epochs' losses).
    train_split : callable or None, default=None
        skorch's ``train_split``: ``None`` trains on every row (no validation
        loss); e.g. ``skorch.dataset.ValidSplit(0.2)`` holds a fraction out
        and records ``valid_loss``, which ``EarlyStopping`` monitors.
    callbacks : list or None, default=None
        skorch's ``callbacks``: instances or ``(name, instance)`` pairs, e.g.
        ``[skorch.callbacks.EarlyStopping(patience=5)]``; their parameters
        are searchable as ``callbacks__<name>__<param>``.
    **kwargs : dict
        ``module__*`` parameters; skorch's other parameters (``criterion``,
        ``iterator_train``, ``iterator_valid``, ``dataset``, ``warm_start``,
        ...) and its prefixed ones (``optimizer__*``, ``criterion__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*``,
        ``dataset__*``, ``compile__*``); ``iterator_train__shuffle``
        defaults to True.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The trained network; ``net_.module_`` has children
        ``representation`` and ``head``.
    module_ : torch.nn.Module
        The learned representation, ``net_.module_.representation``.
    history_ : skorch.History
        skorch's training history (one entry per epoch run: fewer than
        ``max_epochs`` when a callback stopped training).
    train_loss_ : float
        Training loss of the last epoch.
    n_outputs_ : int
        Number of columns of ``y``.
    device_ : str
        The resolved device.
    {features_in}

    See Also
    --------
    MultiTaskFeaturizer : The paper's multi-task pretraining (NaN labels).
    PretrainedFeaturizer : Pretrains a featurizer on its own data, then
        keeps it fixed.
    TorchFeaturizer : A fixed module as a featurizer.

    Examples
    --------
    >>> from skwtsg.featurizers import MLP, SkorchFeaturizer
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 4))
    >>> y = np.sin(X[:, 0])
    >>> feat = SkorchFeaturizer(MLP, module__n_layers=2, module__hidden=8,
    ...                         max_epochs=3, random_state=0).fit(X, y)
    >>> feat.transform(X).shape
    (64, 8)
    >>> len(feat.history_)
    3

    Early stopping on a validation split, as in skorch:

    >>> from skorch.callbacks import EarlyStopping
    >>> from skorch.dataset import ValidSplit
    >>> feat = SkorchFeaturizer(
    ...     MLP, max_epochs=50, train_split=ValidSplit(4),
    ...     callbacks=[EarlyStopping(patience=1, threshold=0.99)],
    ...     random_state=0).fit(X, y)
    >>> len(feat.history_) < 50
    True
    """

    _kwargs_prefixes = _SKORCH_PREFIXES

    _parameter_constraints: dict = {
        "module": "no_validation",
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, -1, None, closed="left")],
        "optimizer": "no_validation",
        "dtype": [StrOptions(set(_DTYPES))],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "train_split": [callable, None],
        "callbacks": [list, None],
    }

    def __init__(
        self,
        module: Any,
        *,
        max_epochs: int = 10,
        lr: float = 1e-3,
        batch_size: int = 128,
        optimizer: str = "adam",
        dtype: str = "float32",
        device: str = "cpu",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        train_split: Any = None,
        callbacks: list | None = None,
        **kwargs: Any,
    ) -> None:
        self.module = module
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.train_split = train_split
        self.callbacks = callbacks
        self.__dict__.update(kwargs)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags

    def _kwargs_names(self) -> frozenset[str]:
        return _skorch_names()

    @property
    def module_(self):
        """The learned representation ``net_.module_.representation``."""
        check_is_fitted(self)
        return self.net_.module_.representation

    @property
    def history_(self):
        """skorch's training history ``net_.history``."""
        check_is_fitted(self)
        return self.net_.history

    def _transform_batch_size(self):
        return 65536

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike) -> SkorchFeaturizer:
        """Train the representation and a linear output layer on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets of the pretraining task(s).

        Returns
        -------
        self : SkorchFeaturizer
            Fitted featurizer.
        """
        torch = _import_torch()
        from skorch import NeuralNetRegressor

        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float64
        )
        Y = y.reshape(y.shape[0], -1)
        module_kwargs = self._prefixed_params("module")
        skorch_kwargs = {
            key: value
            for key, value in self.get_params(deep=False).items()
            if (self._is_prefixed(key) and not key.startswith("module__"))
            or key in self._kwargs_names()
        }
        skorch_kwargs.setdefault("criterion", torch.nn.MSELoss)
        skorch_kwargs.setdefault("iterator_train__shuffle", True)
        optimizer = _optimizer_class(self.optimizer)
        self.device_ = device = _resolve_device(self.device)
        dtype = _torch_dtype(self.dtype)
        seed = _seed_from(self.random_state)
        body = _build_module(
            self.module, module_kwargs, X.shape[1], seed, device="cpu", dtype=dtype
        )
        rep_dim = _output_width(body, X)
        with _torch_seeded(seed + 1, "cpu"):
            head = torch.nn.Linear(rep_dim, Y.shape[1]).to(dtype)
        network = torch.nn.Sequential()
        network.add_module("representation", body)
        network.add_module("head", head)
        np_dtype = np.float32 if self.dtype == "float32" else np.float64
        net = NeuralNetRegressor(
            network,
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=self.train_split,
            # skorch initialises (mutates) callbacks: keep the parameter as given
            callbacks=copy.deepcopy(self.callbacks),
            device=device,
            verbose=self.verbose,
            **skorch_kwargs,
        )
        with _torch_seeded(seed + 2, device):
            net.fit(X.astype(np_dtype), Y.astype(np_dtype))
        net.module_.eval()
        self.net_ = net
        self.n_outputs_ = Y.shape[1]
        self.train_loss_ = float(net.history[-1, "train_loss"])
        self._set_n_features_out(X)
        return self
