# mypy: allow-redefinition
"""A representation learned with skorch's training loop."""

from __future__ import annotations

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
)


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
    mean squared error; ``transform`` returns ``module``'s output. Wrap
    ``module_`` in :class:`TorchFeaturizer` so that finetuning data does not
    retrain it.

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
        skorch's verbosity.
    **kwargs : dict
        ``module__*`` parameters, and skorch's prefixed parameters
        (``optimizer__*``, ``criterion__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*``, ``dataset__*``);
        ``iterator_train__shuffle`` defaults to True. No validation split.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The trained network; ``net_.module_`` has children
        ``representation`` and ``head``.
    module_ : torch.nn.Module
        The learned representation, ``net_.module_.representation``.
    history_ : skorch.History
        skorch's training history.
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
        self.__dict__.update(kwargs)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags

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
            if self._is_prefixed(key) and not key.startswith("module__")
        }
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
            criterion=torch.nn.MSELoss,
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None,
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
