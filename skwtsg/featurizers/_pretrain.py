# mypy: allow-redefinition
"""Representation learning by multi-task pretraining (the paper's eq. (9))."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_consistent_length
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from .._utils._docstrings import fill_doc
from .._utils._torch import (
    _DTYPES,
    _OPTIMIZERS,
    TrainingDivergedError,
    _build_module,
    _check_finite_output,
    _frozen,
    _import_torch,
    _linear_init,
    _optimize,
    _output_width,
    _resolve_device,
    _seed_from,
    _to_tensor,
    _torch_dtype,
    _training_defaults,
)
from ._nets import MLP
from ._torch import _TorchTransformerBase

__all__ = ["MultiTaskFeaturizer"]


@fill_doc
class MultiTaskFeaturizer(_TorchTransformerBase):
    """Learn a representation ``h`` by multi-task pretraining.

    ``fit(X, Y)`` solves the paper's eq. (9),

    .. math::

        h = \\arg\\min_{h} \\frac{1}{|\\Omega|} \\sum_{(i, t) \\in \\Omega}
            (f_t(h(x_i)) - Y_{it})^2,

    ``Omega`` being the observed (non-NaN) entries of ``Y``: each row may
    carry labels for only some tasks (see
    :func:`~skwtsg.datasets.make_synthetic_tasks`). The task heads
    ``f_t(z) = z @ task_heads[:, t] + task_intercepts[t]`` are given and
    frozen (the paper's setting), or learned with ``h``. ``transform`` is
    ``h(x)``, a function of the raw inputs.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=MLP
        The representation class (built with the ``module__*`` parameters
        and ``in_features=n_features_in_`` unless given), or an instance to
        start from (deep-copied).
    task_heads : array-like of shape (rep_dim, n_tasks) or None, default=None
        Fixed linear task heads; ``None`` learns them.
    task_intercepts : array-like of shape (n_tasks,) or None, default=None
        Intercepts of the given ``task_heads`` (``None``: zero).
    optimizer : {"adam", "adamw", "sgd", "lbfgs"}, default="adam"
        The defaults are a fast setting (large mini-batches, cosine-annealed
        rate, about 16 times fewer steps than the paper's procedure, which is
        ``optimizer="adamw", lr=1e-3, batch_size=32, lr_schedule="constant",
        n_init=1``). ``"lbfgs"`` is full-batch L-BFGS with a strong-Wolfe
        line search (pass ``lr=1``), slow on deep ReLU networks.
    max_epochs : int or None, default=1000
        Epochs, or L-BFGS iterations (``None``: 1000); not used with
        ``max_steps``.
    max_steps : int or None, default=None
        The budget in optimiser steps instead of epochs (the cosine schedule
        spans them); ``None``: ``max_epochs`` epochs.
    lr : float or None, default=3e-3
        Learning rate, or L-BFGS's initial step (``None``: 1e-3, or 1.0).
    batch_size : int or None, default=512
        Mini-batch size (``None``: 32); L-BFGS is full-batch.
    lr_schedule : {"cosine", "constant"}, default="cosine"
        Cosine annealing from ``lr`` to 0 over all the steps, or constant.
    n_init : int, default=8
        Random initialisations screened, each trained ``init_epochs`` at the
        constant rate ``lr``; training restarts from the one with the lowest
        loss (deep narrow ReLU networks lose units for good early). Ignored
        when ``module`` is an instance.
    init_epochs : int, default=10
        Length of the screening runs, capped at a tenth of the budget.
    weight_decay : float, default=0.0
        Decoupled decay for ``"adamw"``, L2 penalty in the gradient for
        ``"adam"``/``"sgd"``, ``weight_decay / 2 * ||theta||^2`` for L-BFGS.
    tol : float, default=1e-10
        L-BFGS's tolerance on the gradient and on the change of the loss.
    dtype : {"float32", "float64"}, default="float32"
        Precision of training and of ``module_``.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Where training and the forward pass run.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and the mini-batch shuffling.
    verbose : int, default=0
        Show a progress bar when positive.
    **kwargs : dict
        ``module__<name>`` parameters of the module class.

    Attributes
    ----------
    module_ : torch.nn.Module
        The learned representation ``h`` (in eval mode, on ``device_``).
    task_heads_ : ndarray of shape (rep_dim, n_tasks)
        The task heads used (given or learned).
    task_intercepts_ : ndarray of shape (n_tasks,)
        Their intercepts.
    loss_curve_ : list of float
        Training loss per epoch, or per 10 L-BFGS iterations and at the end.
    history_ : list of dict
        ``{"epoch": i, "train_loss": loss}`` per entry of ``loss_curve_``.
    n_iter_ : int
        L-BFGS iterations or epochs run.
    n_steps_ : int
        Optimiser steps of the final training run.
    init_losses_ : ndarray of shape (n_init,)
        Loss of each screened initialisation (zeros when ``n_init=1``).
    best_init_ : int
        Index of the initialisation trained in full.
    train_loss_ : float
        The eq. (9) loss on all observed entries at the end of training.
    device_ : str
        The resolved device.
    {features_in}

    See Also
    --------
    TorchFeaturizer : A fixed module as a featurizer.
    SkorchFeaturizer : Learns a representation with skorch's training loop.

    Notes
    -----
    Inputs are used raw (Adam is invariant to the scale of each parameter);
    see ``benchmarks/bench_representations.py`` for the optimizers compared.
    Mini-batches mix all tasks' rows; a step's loss is the mean over the
    observed entries of its batch.

    Examples
    --------
    >>> from skwtsg.datasets import make_synthetic_tasks
    >>> from skwtsg.featurizers import MultiTaskFeaturizer
    >>> tasks = make_synthetic_tasks(
    ...     n_pretrain_tasks=3, n_pretrain_samples=100, n_tasks=2, n_samples=50,
    ...     random_state=0)
    >>> feat = MultiTaskFeaturizer(
    ...     task_heads=tasks.pretrain_heads, max_epochs=50, random_state=0,
    ...     module__n_layers=2)
    >>> feat.fit(tasks.pretrain_X, tasks.pretrain_Y).transform(tasks.X_eval).shape
    (50, 16)
    >>> bool(feat.train_loss_ < feat.loss_curve_[0])
    True
    """

    _parameter_constraints: dict = {
        "module": "no_validation",
        "task_heads": ["array-like", None],
        "task_intercepts": ["array-like", None],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), None],
        "max_steps": [Interval(Integral, 1, None, closed="left"), None],
        "lr": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_epochs": [Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "dtype": [StrOptions(set(_DTYPES))],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        module: Any = MLP,
        *,
        task_heads: ArrayLike | None = None,
        task_intercepts: ArrayLike | None = None,
        optimizer: str = "adam",
        max_epochs: int | None = 1000,
        max_steps: int | None = None,
        lr: float | None = 3e-3,
        batch_size: int | None = 512,
        lr_schedule: str = "cosine",
        n_init: int = 8,
        init_epochs: int = 10,
        weight_decay: float = 0.0,
        tol: float = 1e-10,
        dtype: str = "float32",
        device: str = "cpu",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        self.module = module
        self.task_heads = task_heads
        self.task_intercepts = task_intercepts
        self.optimizer = optimizer
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.lr = lr
        self.batch_size = batch_size
        self.lr_schedule = lr_schedule
        self.n_init = n_init
        self.init_epochs = init_epochs
        self.weight_decay = weight_decay
        self.tol = tol
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.__dict__.update(kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = False
        return tags

    def _check_task_heads(self, rep_dim, n_tasks):
        """The fixed ``(heads, intercepts)``, or None to learn them."""
        if self.task_heads is None:
            if self.task_intercepts is not None:
                raise ValueError(
                    "`task_intercepts` is only used with fixed `task_heads`; "
                    "pass task_heads too, or leave task_intercepts=None."
                )
            return None
        heads = check_array(self.task_heads, dtype=np.float64, input_name="task_heads")
        if heads.shape != (rep_dim, n_tasks):
            raise ValueError(
                "`task_heads` must have shape (rep_dim, n_tasks) = "
                f"({rep_dim}, {n_tasks}), got {heads.shape}."
            )
        if self.task_intercepts is None:
            return heads, np.zeros(n_tasks)
        intercepts = check_array(
            self.task_intercepts,
            dtype=np.float64,
            ensure_2d=False,
            ensure_min_samples=0,
            input_name="task_intercepts",
        )
        if intercepts.shape != (n_tasks,):
            raise ValueError(
                f"`task_intercepts` must have shape ({n_tasks},), got "
                f"{intercepts.shape}."
            )
        return heads, intercepts

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, Y: ArrayLike) -> MultiTaskFeaturizer:
        """Pretrain the representation on the labelled entries of ``Y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        Y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Labels of the pretraining tasks; NaN marks a missing label.

        Returns
        -------
        self : MultiTaskFeaturizer
            Fitted featurizer.
        """
        torch = _import_torch()
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        if Y is None:
            raise ValueError(
                "MultiTaskFeaturizer requires y to be passed, but the target y is "
                "None: pass the pretraining labels `Y`."
            )
        Y = check_array(
            Y,
            ensure_all_finite="allow-nan",
            ensure_2d=False,
            dtype=np.float64,
            input_name="Y",
        )
        if Y.ndim == 1:
            Y = Y[:, None]
        if Y.ndim != 2:
            raise ValueError(f"`Y` must be 1-D or 2-D, got {Y.ndim}-D.")
        check_consistent_length(X, Y)
        if np.isinf(Y).any():
            raise ValueError("`Y` contains infinity; use NaN for missing labels.")
        observed = ~np.isnan(Y)
        if not observed.any():
            raise ValueError("`Y` has no observed (non-NaN) entry.")
        rows = observed.any(axis=1)
        n_tasks = Y.shape[1]

        module_kwargs = self._prefixed_params("module")
        lr, batch_size, max_epochs = _training_defaults(
            self.optimizer, self.lr, self.batch_size, self.max_epochs
        )
        self.device_ = device = _resolve_device(self.device)
        dtype = _torch_dtype(self.dtype)
        seed = _seed_from(self.random_state)
        rep_dim = _output_width(
            _build_module(self.module, module_kwargs, X.shape[1], seed, device="cpu"), X
        )
        fixed_heads = self._check_task_heads(rep_dim, n_tasks)

        def tensor(a):
            return _to_tensor(a, device, dtype)

        data = (
            tensor(X[rows]),
            tensor(np.nan_to_num(Y[rows])),
            tensor(observed[rows]),
        )

        def build(init_seed):
            net = _build_module(
                self.module,
                module_kwargs,
                X.shape[1],
                init_seed,
                device=device,
                dtype=dtype,
            )
            net.train()
            for p in net.parameters():
                p.requires_grad_(True)
            if fixed_heads is not None:
                W, b = (tensor(a) for a in fixed_heads)
                head_params = []
            else:
                W0, b0 = _linear_init(rep_dim, n_tasks, init_seed + 1)
                W, b = torch.nn.Parameter(tensor(W0)), torch.nn.Parameter(tensor(b0))
                head_params = [W, b]

            def loss_fn(xb, yb, mb):
                residual = (net(xb) @ W + b - yb) * mb
                return (residual * residual).sum() / mb.sum().clamp_min(1.0)

            groups = [
                {"params": list(net.parameters()), "weight_decay": self.weight_decay}
            ]
            if head_params:
                groups.append(
                    {"params": head_params, "weight_decay": self.weight_decay}
                )
            return net, W, b, loss_fn, groups

        # steps per epoch (an L-BFGS iteration is one step over all rows)
        per_epoch = 1 if batch_size is None else -(-data[0].shape[0] // batch_size)
        if self.max_steps is None:
            budget = max_epochs * per_epoch
            screen = min(self.init_epochs, max(1, max_epochs // 10)) * per_epoch
        else:
            budget = self.max_steps
            screen = min(self.init_epochs * per_epoch, max(1, budget // 10))

        def train(groups, loss_fn, steps, schedule, desc):
            return _optimize(
                groups,
                loss_fn,
                data,
                optimizer=self.optimizer,
                lr=lr,
                batch_size=batch_size,
                max_epochs=max_epochs,
                max_steps=steps,
                tol=self.tol,
                seed=seed,
                lr_schedule=schedule,
                verbose=self.verbose,
                desc=desc,
            )

        n_init = 1 if isinstance(self.module, torch.nn.Module) else self.n_init
        init_seeds = [seed] + [_seed_from(seed + k) for k in range(1, n_init)]
        self.init_losses_ = np.zeros(n_init)
        if n_init > 1:
            # screen the initialisations with a short run each; keep the best
            for k, init_seed in enumerate(init_seeds):
                _, _, _, loss_fn, groups = build(init_seed)
                try:
                    train(
                        groups,
                        loss_fn,
                        screen,
                        "constant",
                        f"MultiTaskFeaturizer (init {k + 1}/{n_init})",
                    )
                except TrainingDivergedError:
                    self.init_losses_[k] = np.inf  # screened out
                    continue
                with torch.no_grad():
                    self.init_losses_[k] = float(loss_fn(*data))
            self.init_losses_[~np.isfinite(self.init_losses_)] = np.inf
        self.best_init_ = int(np.argmin(self.init_losses_))
        net, W, b, loss_fn, groups = build(init_seeds[self.best_init_])
        curve, n_iter = train(
            groups, loss_fn, budget, self.lr_schedule, "MultiTaskFeaturizer"
        )
        Xt, Yt, Mt = data
        net.eval()
        with torch.no_grad():
            self.train_loss_ = float(loss_fn(Xt, Yt, Mt))
        _check_finite_output(
            self.train_loss_,
            estimator="MultiTaskFeaturizer",
            what="the final training loss",
            optimizer=self.optimizer,
            lr=lr,
        )
        self.module_ = _frozen(net)
        self.task_heads_ = W.detach().to("cpu", torch.float64).numpy().copy()
        self.task_intercepts_ = b.detach().to("cpu", torch.float64).numpy().copy()
        self.loss_curve_ = curve
        self.history_ = [
            {"epoch": i + 1, "train_loss": loss} for i, loss in enumerate(curve)
        ]
        self.n_iter_ = n_iter
        self.n_steps_ = int(n_iter) if self.optimizer == "lbfgs" else int(budget)
        self._set_n_features_out(X)
        _check_finite_output(
            self.transform(X[: min(len(X), 1024)]),
            estimator="MultiTaskFeaturizer",
            what="the representation of the training inputs",
            optimizer=self.optimizer,
            lr=lr,
        )
        return self
