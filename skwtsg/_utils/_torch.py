"""A torch module's forward pass as a scikit-learn transformer.

Also holds the private helpers shared by every torch estimator of skwtsg
(device and dtype resolution, seeding, ``module__*`` parameters, pickling of
modules that live on an accelerator). torch is imported lazily, inside
functions, so ``import skwtsg.featurizers`` works without it.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import sys
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

__all__ = ["TorchFeaturizer"]

_DTYPES = ("float32", "float64")


# --------------------------------------------------------------------------
# private helpers shared by the torch estimators
# --------------------------------------------------------------------------
def _import_torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is an optional extra
        raise ImportError(
            "This estimator needs torch, an optional dependency of skwtsg: "
            "install it with `pip install 'skwtsg[torch]'`."
        ) from exc
    return torch


def _resolve_device(device):
    """``"auto"`` -> ``"cuda"`` when available else ``"cpu"``; check the rest."""
    torch = _import_torch()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"`device` must be 'cpu', 'cuda', 'cuda:<index>' or 'auto', got {device!r}."
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"`device`={device!r} but CUDA is not available; use device='cpu' "
            "or device='auto'."
        )
    return str(device)


def _torch_dtype(dtype):
    torch = _import_torch()
    if dtype not in _DTYPES:
        raise ValueError(f"`dtype` must be one of {_DTYPES}, got {dtype!r}.")
    return {"float32": torch.float32, "float64": torch.float64}[dtype]


def _seed_from(random_state):
    """A 31-bit integer seed drawn from ``random_state`` (sklearn semantics)."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def _torch_seeded(seed, device="cpu"):
    """Seed torch's default generators without touching the global state.

    The CPU generator (and, for a CUDA ``device``, that device's generator)
    is forked with :func:`torch.random.fork_rng`, seeded with ``seed``, and
    restored on exit.
    """
    torch = _import_torch()
    dev = torch.device(device)
    devices = []
    if dev.type == "cuda":
        devices = [dev.index if dev.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.random.default_generator.manual_seed(seed)
        for index in devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


def _accepts_argument(factory, name):
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(
        p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def _build_module(module, module_kwargs, n_features, seed, *, device, dtype=None):
    """Instantiate (class or factory) or deep-copy (instance) ``module``.

    A class/factory is called with ``module_kwargs``, plus
    ``in_features=n_features`` when it accepts ``in_features`` and the user did
    not set it; its parameters are initialised under ``seed``. ``dtype=None``
    keeps the module's own dtype.
    """
    torch = _import_torch()
    if isinstance(module, torch.nn.Module):
        if module_kwargs:
            raise ValueError(
                "`module` is an already-built torch.nn.Module, so the "
                f"module__* parameters {sorted(module_kwargs)} cannot be "
                "applied; pass the module class instead."
            )
        net = copy.deepcopy(module)
    elif callable(module):
        kwargs = dict(module_kwargs)
        if "in_features" not in kwargs and _accepts_argument(module, "in_features"):
            kwargs["in_features"] = int(n_features)
        with _torch_seeded(seed, "cpu"):
            net = module(**kwargs)
        if not isinstance(net, torch.nn.Module):
            raise TypeError(
                f"`module` must build a torch.nn.Module, got {type(net).__name__}."
            )
    else:
        raise ValueError(
            "`module` must be a torch.nn.Module class (or a factory returning "
            f"one) or a torch.nn.Module instance, got {module!r}."
        )
    if dtype is not None:
        net = net.to(dtype=dtype)
    return net.to(device)


def _module_dtype(net):
    torch = _import_torch()
    for p in net.parameters():
        return p.dtype
    for b in net.buffers():
        return b.dtype
    return torch.get_default_dtype()


class _Captured(Exception):
    """Raised by a forward hook to stop the forward pass at ``layer``."""

    def __init__(self, output):
        super().__init__()
        self.output = output


def _forward_numpy(net, X, *, batch_size, device, layer=None, out_dtype=np.float64):
    """Run ``net`` (or up to its submodule ``layer``) on ``X`` without grad."""
    torch = _import_torch()
    dtype = _module_dtype(net)
    handle = None
    if layer is not None:
        submodules = dict(net.named_modules())
        if layer not in submodules:
            raise ValueError(
                f"`layer`={layer!r} is not a submodule of the module; valid "
                f"names are {[n for n in submodules if n]}."
            )

        def hook(mod, inputs, output):
            raise _Captured(output)

        handle = submodules[layer].register_forward_hook(hook)
    outputs = []
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            for start in range(0, X.shape[0], batch_size):
                xb = torch.tensor(X[start : start + batch_size])
                xb = xb.to(dtype=dtype).to(device)
                try:
                    out = net(xb)
                except _Captured as captured:
                    out = captured.output
                if isinstance(out, (tuple, list)):
                    out = out[0]
                out = out.reshape(out.shape[0], -1)
                outputs.append(out.detach().to("cpu", torch.float64).numpy())
    finally:
        net.train(was_training)
        if handle is not None:
            handle.remove()
    if not outputs:
        raise ValueError(
            "Found array with 0 sample(s) while a minimum of 1 is required."
        )
    return np.concatenate(outputs, axis=0).astype(out_dtype, copy=False)


_OPTIMIZERS = ("lbfgs", "adam", "adamw", "sgd")
_LBFGS_CHUNK = 10


def _training_defaults(optimizer, lr, batch_size, max_epochs):
    """Resolve ``None`` hyper-parameters for ``optimizer``.

    ``"lbfgs"``: full batch, ``lr=1`` (initial step of the strong-Wolfe line
    search), ``max_epochs=1000`` iterations. Gradient methods: the paper's
    ``lr=1e-3``, ``batch_size=32``, ``max_epochs=1000`` epochs.
    """
    if optimizer not in _OPTIMIZERS:
        raise ValueError(
            f"`optimizer` must be one of {_OPTIMIZERS}, got {optimizer!r}."
        )
    if optimizer == "lbfgs":
        lr = 1.0 if lr is None else lr
        return lr, None, (1000 if max_epochs is None else max_epochs)
    return (
        (1e-3 if lr is None else lr),
        (32 if batch_size is None else batch_size),
        (1000 if max_epochs is None else max_epochs),
    )


def _make_gradient_optimizer(optimizer, param_groups, lr):
    torch = _import_torch()
    cls = {
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "sgd": torch.optim.SGD,
    }[optimizer]
    try:  # the fused kernels cut the per-step overhead of small networks
        return cls(param_groups, lr=lr, fused=True)
    except (RuntimeError, ValueError, TypeError):  # pragma: no cover
        return cls(param_groups, lr=lr)


def _optimize(
    param_groups,
    loss_fn,
    data,
    *,
    optimizer,
    lr,
    batch_size,
    max_epochs,
    tol,
    seed,
    lr_schedule="constant",
    verbose=0,
    desc="fit",
):
    """Minimise ``loss_fn`` over the parameters of ``param_groups``.

    ``loss_fn(*batch)`` returns the scalar loss on ``batch``, a tuple of
    row-aligned tensors: ``data`` itself (full batch) or slices of it.

    * ``"lbfgs"``: full-batch L-BFGS with a strong-Wolfe line search, run in
      chunks of ``_LBFGS_CHUNK`` iterations (one entry of the loss curve per
      chunk) until ``max_epochs`` iterations or convergence (no iteration
      made, or a relative change of the loss below ``tol`` over a chunk).
      Weight decay is an L2 penalty ``weight_decay / 2 * ||theta||^2``.
    * ``"adam"``, ``"adamw"``, ``"sgd"``: ``max_epochs`` passes over the rows
      in mini-batches of ``batch_size``, shuffled with a generator seeded by
      ``seed``; the loss curve holds the mean mini-batch loss of each epoch.
      ``lr_schedule="cosine"`` anneals the learning rate from ``lr`` to 0
      over all the steps (cosine), ``"constant"`` keeps it.

    Returns ``(loss_curve, n_iter)``: n_iter counts L-BFGS iterations or
    epochs.
    """
    torch = _import_torch()
    from tqdm.auto import tqdm

    n_samples = data[0].shape[0]
    device = data[0].device
    curve = []
    if optimizer == "lbfgs":
        params = [p for g in param_groups for p in g["params"]]
        decays = [
            (g.get("weight_decay", 0.0), g["params"])
            for g in param_groups
            if g.get("weight_decay", 0.0) > 0
        ]
        opt = torch.optim.LBFGS(
            params,
            lr=lr,
            max_iter=_LBFGS_CHUNK,
            tolerance_grad=tol,
            tolerance_change=tol,
            history_size=50,
            line_search_fn="strong_wolfe",
        )

        def objective():
            loss = loss_fn(*data)
            for wd, ps in decays:
                loss = loss + 0.5 * wd * sum((p * p).sum() for p in ps)
            return loss

        def closure():
            opt.zero_grad(set_to_none=False)
            loss = objective()
            loss.backward()
            return loss

        done = 0
        bar = tqdm(total=max_epochs, desc=desc, disable=not verbose, leave=False)
        previous = None
        while done < max_epochs:
            chunk = min(_LBFGS_CHUNK, max_epochs - done)
            opt.param_groups[0]["max_iter"] = chunk
            opt.param_groups[0]["max_eval"] = int(chunk * 1.25) + 1
            loss = float(opt.step(closure).detach())
            n_iter = opt.state[opt._params[0]]["n_iter"]
            curve.append(loss)
            bar.update(n_iter - done)
            bar.set_postfix(loss=f"{loss:.4g}")
            if not np.isfinite(loss) or n_iter == done:
                break
            if previous is not None and abs(previous - loss) <= tol * max(
                1.0, abs(loss)
            ):
                done = n_iter
                break
            previous = loss
            done = n_iter
        bar.close()
        with torch.no_grad():
            curve.append(float(objective()))
        return curve, int(done)

    opt = _make_gradient_optimizer(optimizer, param_groups, lr)
    scheduler = None
    if lr_schedule == "cosine":
        n_steps = max_epochs * (-(-n_samples // batch_size))
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, n_steps)
    generator = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(max_epochs), desc=desc, disable=not verbose, leave=False):
        perm = torch.randperm(n_samples, generator=generator).to(device)
        shuffled = [tensor[perm] for tensor in data]
        total = torch.zeros((), device=device)
        for start in range(0, n_samples, batch_size):
            batch = [tensor[start : start + batch_size] for tensor in shuffled]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(*batch)
            loss.backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()
            total = total + loss.detach() * batch[0].shape[0]
        curve.append(float(total) / n_samples)
        if not np.isfinite(curve[-1]):
            break
    return curve, len(curve)


def _on_accelerator(net):
    return any(t.device.type != "cpu" for t in net.state_dict().values())


class _TorchParamsMixin:
    """skorch-style ``<prefix>__<name>`` parameters and device-safe pickling.

    Extra keyword arguments of ``__init__`` are stored as attributes, listed
    by ``get_params`` (so :func:`sklearn.base.clone` and nested grid searches
    such as ``{"weak_featurizer__module__n_layers": [2, 8]}`` see them) and
    set directly by ``set_params``; ``fit`` checks that each starts with one
    of ``_kwargs_prefixes`` followed by ``"__"``. Modules on an accelerator
    are moved to the CPU when pickled, and back to their device on load when
    it is available, so a model saved from CUDA loads on a CPU-only machine.
    """

    _kwargs_prefixes: tuple = ("module",)

    def _get_param_names(self):
        names = set(super()._get_param_names())
        names.update(
            key
            for key in vars(self)
            if not key.startswith("_") and not key.endswith("_")
        )
        return sorted(names)

    def set_params(self, **params):
        """Set the parameters of this estimator.

        Parameters
        ----------
        **params : dict
            Estimator parameters, including ``<prefix>__<name>`` ones (e.g.
            ``module__n_layers``) that are forwarded when ``fit`` builds the
            module.

        Returns
        -------
        self : estimator instance
            Estimator instance.
        """
        special = {k: v for k, v in params.items() if self._is_prefixed(k)}
        normal = {k: v for k, v in params.items() if k not in special}
        for key, value in special.items():
            setattr(self, key, value)
        super().set_params(**normal)
        return self

    def _is_prefixed(self, key):
        return any(key.startswith(prefix + "__") for prefix in self._kwargs_prefixes)

    def _prefixed_params(self, prefix):
        """``{name: value}`` of the ``<prefix>__<name>`` parameters; checks all."""
        known = set(super()._get_param_names())
        out = {}
        for key, value in self.get_params(deep=False).items():
            if key in known:
                continue
            if not self._is_prefixed(key):
                guess = [p for p in self._kwargs_prefixes if key.startswith(p)]
                hint = (
                    f" Did you mean {guess[0]}__{key[len(guess[0]) :].lstrip('_')}?"
                    if guess
                    else f" Did you mean module__{key}?"
                )
                raise ValueError(
                    f"Unexpected parameter {key!r} for {type(self).__name__}; "
                    "extra parameters must start with one of "
                    f"{[p + '__' for p in self._kwargs_prefixes]}.{hint}"
                )
            if key.startswith(prefix + "__"):
                out[key[len(prefix) + 2 :]] = value
        return out

    def __getstate__(self):
        state = super().__getstate__()
        torch = sys.modules.get("torch")
        if torch is None:
            return state
        state = dict(state)
        for key, value in state.items():
            if isinstance(value, torch.nn.Module) and _on_accelerator(value):
                state[key] = copy.deepcopy(value).to("cpu")
            elif isinstance(value, torch.Tensor) and value.device.type != "cpu":
                state[key] = value.detach().to("cpu")
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        device = state.get("device_")
        if device is None or device == "cpu":
            return
        torch = _import_torch()
        if torch.device(device).type == "cuda" and not torch.cuda.is_available():
            self.device_ = "cpu"
            return
        for key, value in vars(self).items():
            if key.endswith("_") and isinstance(value, torch.nn.Module):
                value.to(device)


class _TorchTransformerBase(
    _TorchParamsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Common ``transform`` (the fitted ``module_``'s forward pass)."""

    layer = None

    def _transform_batch_size(self):
        return 65536

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_") and hasattr(self, "n_features_in_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def _set_n_features_out(self, X):
        out = _forward_numpy(
            self.module_,
            X[:1],
            batch_size=1,
            device=self.device_,
            layer=self.layer,
        )
        self._n_features_out = out.shape[1]

    def transform(self, X):
        """Featurize ``X`` with the fitted module (no gradient).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The module's output (or its submodule ``layer``'s output,
            flattened), as float64.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return _forward_numpy(
            self.module_,
            X,
            batch_size=self._transform_batch_size(),
            device=self.device_,
            layer=self.layer,
        )


class TorchFeaturizer(_TorchTransformerBase):
    """Use a torch module's forward pass as a scikit-learn transformer.

    ``transform(X)`` is ``module(X)`` computed without gradient, in batches,
    on ``device``; with ``layer`` it is the output of that named submodule
    (captured with a forward hook, the rest of the forward pass is skipped).
    The module is not trained: ``fit`` only builds it (a class) or copies it
    (an instance), so a fixed representation ``h`` -- the paper's ``h*``, a
    pretrained or perturbed network -- becomes a featurizer for
    :class:`~skwtsg.WeakToStrongRegressor`.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        A class (or factory such as :class:`MLP`) is instantiated at ``fit``
        with the ``module__*`` parameters, its weights initialised under
        ``random_state``; if it accepts ``in_features`` and
        ``module__in_features`` is not given, ``in_features`` is set to
        ``n_features_in_``. An instance is used as-is, deep-copied into
        ``module_`` (no ``module__*`` parameter is then allowed).
    layer : str or None, default=None
        Name of a submodule (as in ``module.named_modules()``) whose output
        is the representation; ``None`` uses the module's output.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Where the forward pass runs; ``"auto"`` is ``"cuda"`` when available.
        ``"cuda:1"`` and the like are accepted.
    batch_size : int, default=65536
        Rows per forward pass.
    dtype : {"float32", "float64"} or None, default=None
        Precision of the forward pass; ``None`` keeps the module's own dtype
        (torch's default float32 for a module built from a class). The
        output is always float64.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation of a module built from a class.
    **kwargs : dict
        ``module__<name>=value`` parameters passed to the module class, e.g.
        ``module__n_layers=8``. They are regular parameters for
        :meth:`get_params`, :meth:`set_params`, :func:`~sklearn.base.clone`
        and grid searches.

    Attributes
    ----------
    module_ : torch.nn.Module
        The built (or copied) module, in eval mode, on ``device_``.
    device_ : str
        The resolved device.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    MLP : The paper's multi-layer perceptron.
    MultiTaskFeaturizer : Learns the representation by multi-task pretraining.
    SkorchFeaturizer : Learns the representation with skorch's training loop.
    perturb_weights : The paper's perturbed representations.

    Notes
    -----
    Pickling moves modules living on an accelerator to the CPU; unpickling
    moves them back to ``device_`` when it is available, and otherwise keeps
    them on the CPU and sets ``device_="cpu"``.

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
        module,
        *,
        layer=None,
        device="cpu",
        batch_size=65536,
        dtype=None,
        random_state=None,
        **kwargs,
    ):
        self.module = module
        self.layer = layer
        self.device = device
        self.batch_size = batch_size
        self.dtype = dtype
        self.random_state = random_state
        vars(self).update(kwargs)

    def _transform_batch_size(self):
        return self.batch_size

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build (or copy) the module; no training.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs; only their number of features is used (and one row to
            measure the output width).
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
        for p in net.parameters():
            p.requires_grad_(False)
        self.module_ = net
        self._set_n_features_out(X)
        return self
