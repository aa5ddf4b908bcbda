"""Torch plumbing shared by every torch estimator of skwtsg.

Devices, dtypes, seeding, threads, module building, the forward pass, the one
training loop and ``_TorchParamsMixin`` (``module__*`` parameters and
accelerator-safe pickling). torch is imported inside functions; nothing here
imports from the rest of skwtsg.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

_DTYPES = ("float32", "float64")


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
    if dev.type == "meta":
        raise ValueError(
            "`device`='meta' holds no values, so no features can be computed; "
            "use device='cpu', 'cuda' or 'auto'."
        )
    if dev.type != "cpu":
        # torch names many backends (mps, xpu, hpu, ...) that this build or
        # machine may lack; each fails differently on first use, so allocate
        # once here and give one message instead of a backend's own error.
        try:
            torch.empty(0, device=dev)
        except Exception as exc:
            first = (str(exc).splitlines() or [""])[0]
            raise ValueError(
                f"`device`={device!r} is not available on this machine with "
                f"this torch build ({type(exc).__name__}: {first}); use "
                "device='cpu' or device='auto'."
            ) from exc
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
    """Seed torch's CPU (and CUDA ``device``'s) generator, forked and restored."""
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


@contextlib.contextmanager
def _torch_threads(n_threads: int | None) -> Iterator[None]:
    """Run torch with ``n_threads`` intra-op threads (``None``: unchanged), then
    restore the (process-wide) setting."""
    if n_threads is None:
        yield
        return
    torch = _import_torch()
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class TrainingDivergedError(FloatingPointError, ValueError):
    """A torch training run produced a non-finite loss, weight or output."""


def _divergence_message(estimator: str, what: str, optimizer: str, lr) -> str:
    return (
        f"{estimator} diverged: {what} (optimizer={optimizer!r}, lr={lr!r}). "
        "Lower the learning rate `lr`, scale the inputs (e.g. with "
        "sklearn.preprocessing.StandardScaler, or standardize=True where "
        "available), or use optimizer='lbfgs'."
    )


def _check_finite_training(
    loss: float, params: Sequence, *, estimator: str, optimizer: str, lr, step: str
) -> None:
    """Raise :class:`TrainingDivergedError` on a non-finite loss or weight."""
    torch = _import_torch()
    if not np.isfinite(loss):
        what = f"the training loss became {loss} at {step}"
    elif not all(bool(torch.isfinite(p).all()) for p in params):
        what = f"the weights became non-finite at {step}"
    else:
        return
    raise TrainingDivergedError(_divergence_message(estimator, what, optimizer, lr))


def _check_finite_output(
    values, *, estimator: str, what: str, optimizer: str, lr
) -> None:
    """Raise :class:`TrainingDivergedError` when ``values`` is not all finite."""
    if not np.all(np.isfinite(values)):
        raise TrainingDivergedError(
            _divergence_message(estimator, f"{what} is not finite", optimizer, lr)
        )


def _accepts_argument(factory, name):
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(
        p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def _build_module(module, module_kwargs, n_features, seed, *, device, dtype=None):
    """Build a class or factory (with ``module_kwargs``, ``in_features`` when it
    takes one, initialised under ``seed``) or deep-copy an instance."""
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


def _to_tensor(a, device, dtype):
    """``a`` as a contiguous tensor of ``dtype`` on ``device``."""
    torch = _import_torch()
    return torch.tensor(np.ascontiguousarray(a), device=device).to(dtype)


def _linear_init(n_in, n_out, seed):
    """``torch.nn.Linear(n_in, n_out)``'s initial ``(weight.T, bias)`` in float64."""
    torch = _import_torch()
    with _torch_seeded(seed, "cpu"):
        linear = torch.nn.Linear(n_in, n_out)
    weight = linear.weight.detach().double().numpy().T
    return weight, linear.bias.detach().double().numpy()


def _frozen(net):
    """``net`` with gradients off for every parameter."""
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def _output_width(net, X):
    """Width of ``net``'s output on the first row of ``X`` (on the CPU)."""
    return _forward_numpy(net, X[:1], batch_size=1, device="cpu").shape[1]


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
    """``(lr, batch_size, max_epochs)`` with ``None`` resolved: L-BFGS ``(1, None,
    1000)``, gradient methods the paper's ``(1e-3, 32, 1000)``."""
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


# the devices of torch.optim's fused kernels
# (torch.utils._foreach_utils._get_fused_kernels_supported_devices)
_FUSED_DEVICES = ("mps", "cuda", "xpu", "hpu", "cpu", "mtia")


def _fused_supported(params) -> bool:
    """Whether torch.optim's ``fused=True`` accepts every one of ``params``."""
    torch = _import_torch()
    return all(
        torch.is_floating_point(p) and p.device.type in _FUSED_DEVICES for p in params
    )


def _gradient_optimizer_classes() -> dict[str, Any]:
    """The ``torch.optim`` class of each gradient method's name."""
    torch = _import_torch()
    return {
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "sgd": torch.optim.SGD,
    }


def _make_gradient_optimizer(optimizer, param_groups, lr, *, fused=True):
    """``torch.optim.Adam``, ``AdamW`` or ``SGD`` over copies of ``param_groups``
    (fused kernels where every parameter allows them and ``fused``)."""
    classes = _gradient_optimizer_classes()
    if optimizer not in classes:
        raise ValueError(
            f"`optimizer` must be 'adam', 'adamw' or 'sgd', got {optimizer!r}."
        )
    groups = [dict(group, params=list(group["params"])) for group in param_groups]
    params = [p for group in groups for p in group["params"]]
    flags = {"fused": True} if fused and _fused_supported(params) else {}
    return classes[optimizer](groups, lr=lr, **flags)


def _optimize(
    param_groups: list[dict],
    loss_fn: Callable[..., Any],
    data: Sequence,
    *,
    optimizer: str,
    lr: float,
    batch_size: int | None,
    max_epochs: int,
    tol: float,
    seed: int,
    lr_schedule: str = "constant",
    verbose: int = 0,
    desc: str = "fit",
    batches: Callable[[Any], Iterable[Sequence]] | None = None,
    record: str = "epoch",
    fused: bool = True,
    max_steps: int | None = None,
) -> tuple[list[float], int]:
    """The one training loop: minimise ``loss_fn(*batch)``; ``(curve, n_iter)``.

    ``"lbfgs"``: full batch, strong-Wolfe line search, chunks of
    ``_LBFGS_CHUNK`` iterations (one curve entry each) until ``max_epochs``
    iterations or a relative change below ``tol``; weight decay is an L2
    penalty. Gradient methods: epochs of shuffled mini-batches (or
    ``batches(generator)``'s), ``lr_schedule="cosine"`` annealing to 0,
    ``record`` ``"epoch"`` (mean loss) or ``"step"``; ``max_steps`` replaces
    ``max_epochs`` as the budget. A non-finite loss or weight raises
    :class:`TrainingDivergedError` naming ``desc``.
    """
    torch = _import_torch()
    from tqdm.auto import tqdm

    params = [p for g in param_groups for p in g["params"]]
    curve: list[float] = []
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"`max_steps` must be a positive integer, got {max_steps}.")
    if optimizer == "lbfgs":
        if max_steps is not None:
            max_epochs = max_steps
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
        lbfgs_group = opt.param_groups[0]
        lbfgs_state = opt.state[params[0]]  # L-BFGS keeps it on the first one

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
        previous = None
        with tqdm(total=max_epochs, desc=desc, disable=not verbose, leave=False) as bar:
            while done < max_epochs:
                chunk = min(_LBFGS_CHUNK, max_epochs - done)
                lbfgs_group["max_iter"] = chunk
                lbfgs_group["max_eval"] = int(chunk * 1.25) + 1
                loss = float(opt.step(closure).detach())
                n_iter = int(lbfgs_state["n_iter"])
                curve.append(loss)
                bar.update(n_iter - done)
                bar.set_postfix(loss=f"{loss:.4g}")
                _check_finite_training(
                    loss,
                    params,
                    estimator=desc,
                    optimizer=optimizer,
                    lr=lr,
                    step=f"L-BFGS iteration {n_iter}",
                )
                if n_iter == done:
                    break
                if previous is not None and abs(previous - loss) <= tol * max(
                    1.0, abs(loss)
                ):
                    done = n_iter
                    break
                previous = loss
                done = n_iter
        with torch.no_grad():
            curve.append(float(objective()))
        _check_finite_training(
            curve[-1],
            params,
            estimator=desc,
            optimizer=optimizer,
            lr=lr,
            step=f"L-BFGS iteration {done}",
        )
        return curve, int(done)

    if record not in ("epoch", "step"):
        raise ValueError(f"`record` must be 'epoch' or 'step', got {record!r}.")
    if batch_size is None:
        raise ValueError(f"`batch_size` must be set for optimizer={optimizer!r}.")
    generator = torch.Generator().manual_seed(seed)
    n_samples = data[0].shape[0] if len(data) else 0

    def shuffled_batches(gen):
        perm = torch.randperm(n_samples, generator=gen).to(data[0].device)
        shuffled = [tensor[perm] for tensor in data]
        for start in range(0, n_samples, batch_size):
            yield tuple(tensor[start : start + batch_size] for tensor in shuffled)

    epoch_batches = shuffled_batches if batches is None else batches

    opt = _make_gradient_optimizer(optimizer, param_groups, lr, fused=fused)
    per_epoch = -(-n_samples // batch_size)
    if max_steps is not None and batches is None:
        max_epochs = max(1, -(-max_steps // max(per_epoch, 1)))
    scheduler = None
    if lr_schedule == "cosine":
        n_steps = max_steps if max_steps is not None else max_epochs * per_epoch
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, n_steps)
    epochs: Iterable[int] = range(max_epochs)
    if max_steps is not None and batches is not None:
        epochs = itertools.count()  # until max_steps: epochs of unknown length
    bar = tqdm(epochs, desc=desc, disable=not verbose, leave=False)
    steps = 0
    n_epochs = 0
    for epoch in bar:
        if max_steps is not None and steps >= max_steps:
            break
        n_epochs += 1
        total, rows = 0.0, 0
        for batch in epoch_batches(generator):
            if max_steps is not None and steps >= max_steps:
                break
            steps += 1
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(*batch)
            loss.backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()
            value = loss.detach()
            n_rows = batch[0].shape[0]
            if record == "step":
                curve.append(float(value))
                total += curve[-1] * n_rows
            else:
                total = total + value * n_rows
            rows += n_rows
        mean = float(total) / max(rows, 1)
        if record == "epoch":
            curve.append(mean)
        bar.set_postfix(loss=f"{mean:.4g}")
        _check_finite_training(
            mean,
            params,
            estimator=desc,
            optimizer=optimizer,
            lr=lr,
            step=f"epoch {epoch + 1}",
        )
        if rows == 0 and max_steps is not None:
            break  # an epoch without batches: max_steps would never be reached
    return curve, n_epochs


def _on_accelerator(net):
    return any(t.device.type != "cpu" for t in net.state_dict().values())


class _TorchParamsMixin:
    """skorch-style ``<prefix>__<name>`` parameters and device-safe pickling.

    Extra keyword arguments of ``__init__`` are attributes that ``get_params``
    lists and ``set_params`` sets (``fit`` checks their prefixes). Modules on
    an accelerator are pickled on the CPU and moved back on load when the
    device is available.
    """

    _kwargs_prefixes: tuple = ("module",)

    def _kwargs_names(self) -> frozenset[str]:
        """Extra keyword arguments accepted without a prefix (none here; a
        wrapper of another library's estimator lists that estimator's own)."""
        return frozenset()

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
        special = {
            k: v
            for k, v in params.items()
            if self._is_prefixed(k) or k in self._kwargs_names()
        }
        normal = {k: v for k, v in params.items() if k not in special}
        for key, value in special.items():
            setattr(self, key, value)
        super().set_params(**normal)
        return self

    def _is_prefixed(self, key):
        return any(key.startswith(prefix + "__") for prefix in self._kwargs_prefixes)

    def _prefixed_params(self, prefix):
        """``{name: value}`` of the ``<prefix>__<name>`` parameters; checks all."""
        known = set(super()._get_param_names()) | self._kwargs_names()
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
                names = sorted(self._kwargs_names())
                also = f" or be one of {names}" if names else ""
                raise ValueError(
                    f"Unexpected parameter {key!r} for {type(self).__name__}; "
                    "extra parameters must start with one of "
                    f"{[p + '__' for p in self._kwargs_prefixes]}{also}.{hint}"
                )
            if key.startswith(prefix + "__"):
                out[key[len(prefix) + 2 :]] = value
        return out

    def __getstate__(self):
        state = super().__getstate__()
        torch = sys.modules.get("torch")
        if getattr(getattr(torch, "nn", None), "Module", None) is None:
            # torch not (fully) imported yet: no torch object to move
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
