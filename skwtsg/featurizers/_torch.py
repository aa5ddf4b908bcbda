# mypy: allow-redefinition
"""A torch module's forward pass as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from .._utils._docstrings import fill_doc
from .._utils._torch import (
    _DTYPES,
    _build_module,
    _forward_numpy,
    _frozen,
    _resolve_device,
    _seed_from,
    _torch_dtype,
    _TorchParamsMixin,
)

__all__ = ["TorchFeaturizer"]


class _TorchTransformerBase(
    _TorchParamsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Common ``transform`` (the fitted ``module_``'s forward pass)."""

    layer: str | None = None

    def _transform_batch_size(self):
        return 65536

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_") and hasattr(self, "n_features_in_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def _set_n_features_out(self, X):
        try:
            out = _forward_numpy(
                self.module_,
                X[:1],
                batch_size=1,
                device=self.device_,
                layer=self.layer,
            )
        except RuntimeError as exc:  # e.g. a first layer of another width
            raise ValueError(
                f"{type(self).__name__}: the module's forward pass fails on X "
                f"with {X.shape[1]} features: {exc}"
            ) from exc
        self._n_features_out = out.shape[1]

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Featurize ``X`` with the fitted module (no gradient).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, with the features seen by :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The module's (or submodule ``layer``'s) output, flattened, as
            float64; a ValueError when it is not finite.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        out = _forward_numpy(
            self.module_,
            X,
            batch_size=self._transform_batch_size(),
            device=self.device_,
            layer=self.layer,
        )
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():  # overflow in the forward pass: never NaN features
            raise ValueError(
                f"{type(self).__name__}: the module gives NaN or infinite "
                f"features on {int(bad.sum())} of {len(out)} rows (first: row "
                f"{int(np.flatnonzero(bad)[0])}); the inputs or the module's "
                "weights are too large for its dtype: rescale the inputs."
            )
        return out


@fill_doc
class TorchFeaturizer(_TorchTransformerBase):
    """Use a torch module's forward pass as a scikit-learn transformer.

    ``transform(X)`` is ``module(X)`` (or the output of its submodule
    ``layer``) computed without gradient, in batches, on ``device``. The
    module is not trained: ``fit`` builds it (a class) or copies it (an
    instance), so a fixed representation (the paper's ``h*``, a pretrained
    or perturbed network) becomes a featurizer.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        A class (or a factory such as :class:`MLP`) is built at ``fit`` with
        the ``module__*`` parameters, and ``in_features=n_features_in_``
        when it accepts it and ``module__in_features`` is not given, its
        weights initialised under ``random_state``. An instance is
        deep-copied (no ``module__*`` parameter is then allowed).
    layer : str or None, default=None
        Name of a submodule (as in ``module.named_modules()``) whose output
        is the representation; ``None`` uses the module's output.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Where the forward pass runs; ``"auto"`` is ``"cuda"`` when available.
    batch_size : int, default=65536
        Rows per forward pass.
    dtype : {"float32", "float64"} or None, default=None
        Precision of the forward pass; ``None`` keeps the module's own. The
        output is always float64.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation of a module built from a class.
    **kwargs : dict
        ``module__<name>=value`` parameters of the module class, regular
        parameters for :meth:`get_params`, :meth:`set_params` and searches.

    Attributes
    ----------
    module_ : torch.nn.Module
        The built (or copied) module, in eval mode, on ``device_``.
    device_ : str
        The resolved device.
    {features_in}

    See Also
    --------
    MLP : The paper's multi-layer perceptron.
    MultiTaskFeaturizer : Learns the representation by multi-task pretraining.
    SkorchFeaturizer : Learns the representation with skorch's training loop.
    perturb_weights : The paper's perturbed representations.

    Notes
    -----
    Pickling moves modules on an accelerator to the CPU; unpickling moves
    them back to ``device_`` when it is available (else ``device_="cpu"``).

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.featurizers import MLP, TorchFeaturizer
    >>> X = np.random.default_rng(0).normal(size=(5, 8))
    >>> feat = TorchFeaturizer(MLP, module__n_layers=2, random_state=0).fit(X)
    >>> feat.transform(X).shape
    (5, 16)
    >>> feat.get_params()["module__n_layers"]
    2
    >>> feat.get_feature_names_out()[:2]
    array(['torchfeaturizer0', 'torchfeaturizer1'], dtype=object)
    """

    _parameter_constraints: dict = {
        "module": "no_validation",
        "layer": [str, None],
        "device": [str],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions(set(_DTYPES)), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        module: Any,
        *,
        layer: str | None = None,
        device: str = "cpu",
        batch_size: int = 65536,
        dtype: str | None = None,
        random_state: int | np.random.RandomState | None = None,
        **kwargs: Any,
    ) -> None:
        self.module = module
        self.layer = layer
        self.device = device
        self.batch_size = batch_size
        self.dtype = dtype
        self.random_state = random_state
        self.__dict__.update(kwargs)

    def _transform_batch_size(self):
        return self.batch_size

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> TorchFeaturizer:
        """Build (or copy) the module; no training.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs; only their number of features and first row are used.
        y : None
            Ignored.

        Returns
        -------
        self : TorchFeaturizer
            Fitted featurizer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        module_kwargs = self._prefixed_params("module")
        self.device_ = _resolve_device(self.device)
        dtype = None if self.dtype is None else _torch_dtype(self.dtype)
        net = _build_module(
            self.module,
            module_kwargs,
            X.shape[1],
            _seed_from(self.random_state),
            device=self.device_,
            dtype=dtype,
        )
        net.eval()
        self.module_ = _frozen(net)
        self._set_n_features_out(X)
        return self
