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

from .._utils._torch import (
    _DTYPES,
    _OPTIMIZERS,
    TrainingDivergedError,
    _build_module,
    _check_finite_output,
    _forward_numpy,
    _import_torch,
    _optimize,
    _resolve_device,
    _seed_from,
    _torch_dtype,
    _torch_seeded,
    _training_defaults,
)
from ._nets import MLP
from ._torch import _TorchTransformerBase

__all__ = ["MultiTaskFeaturizer"]


class MultiTaskFeaturizer(_TorchTransformerBase):
    """Learn a representation ``h`` by multi-task pretraining.

    ``fit(X, Y)`` solves the paper's eq. (9),

    .. math::

        h = \\arg\\min_{h} \\frac{1}{|\\Omega|} \\sum_{(i, t) \\in \\Omega}
            (f_t(h(x_i)) - Y_{it})^2,

    where ``Omega`` is the set of observed (non-NaN) entries of ``Y``: each row
    may carry labels for only some tasks. In the paper each pretraining task
    ``t`` has its own ``N_r`` rows, so ``Y`` is block-diagonal with NaN
    elsewhere (see :func:`~skwtsg.datasets.make_synthetic_tasks`). The task
    heads ``f_t(z) = z @ task_heads[:, t] + task_intercepts[t]`` are given and
    frozen when ``task_heads`` is passed (the paper's setting: the true
    pretraining heads), else learned jointly with ``h``. ``transform`` is
    ``h(x)``.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=MLP
        The representation class ``H`` (built at ``fit`` with the
        ``module__*`` parameters, initialised under ``random_state``; it gets
        ``in_features=n_features_in_`` unless ``module__in_features`` is
        given), or an instance to start from (deep-copied; not modified).
    task_heads : array-like of shape (rep_dim, n_tasks) or None, default=None
        Fixed linear task heads; ``None`` learns them (initialised like
        ``torch.nn.Linear``).
    task_intercepts : array-like of shape (n_tasks,) or None, default=None
        Fixed intercepts of the given ``task_heads`` (``None``: zero). Only
        used with ``task_heads``.
    optimizer : {"adam", "adamw", "sgd", "lbfgs"}, default="adam"
        The defaults (``"adam"``, ``lr=3e-3``, ``batch_size=512``,
        ``max_epochs=1000``, ``lr_schedule="cosine"``) are the fast setting:
        large mini-batches and a cosine-annealed learning rate, about 16 times
        fewer (and cheap) steps than the paper's procedure, which is
        ``optimizer="adamw", lr=1e-3, batch_size=32, max_epochs=1000,
        lr_schedule="constant", n_init=1`` (appendix F; the paper says Adam, the
        authors' code uses ``torch.optim.AdamW`` with its default
        ``weight_decay=0.01``; with ``weight_decay=0`` AdamW is Adam).
        ``"lbfgs"`` is full-batch L-BFGS with a strong-Wolfe line search
        (pass ``lr=1``); it is exact on smooth problems but slow on deep ReLU
        networks.
    max_epochs : int or None, default=1000
        Epochs of the gradient methods, or L-BFGS iterations (``None``:
        1000). Not used when ``max_steps`` is given.
    max_steps : int or None, default=None
        The budget in optimiser steps (mini-batch updates, or L-BFGS
        iterations) instead of epochs: training stops after ``max_steps``
        steps, within an epoch if need be, and the cosine schedule spans
        them. A budget in steps gives a small data set as many updates as a
        large one. ``None``: ``max_epochs`` epochs.
    lr : float or None, default=3e-3
        Learning rate; for L-BFGS the initial step of the line search
        (``None``: 1e-3, or 1.0 for L-BFGS).
    batch_size : int or None, default=512
        Mini-batch size of the gradient methods (``None``: 32); L-BFGS is
        always full-batch.
    lr_schedule : {"cosine", "constant"}, default="cosine"
        Learning-rate schedule of the gradient methods: cosine annealing from
        ``lr`` to 0 over all the steps, or constant.
    n_init : int, default=8
        Number of random initialisations screened: each is trained for
        ``init_epochs`` epochs (or L-BFGS iterations) at the constant rate
        ``lr``, and training restarts from the initialisation with the lowest
        loss. Deep narrow ReLU networks fed the paper's large inputs lose
        units for good in their first epochs, and the early loss predicts the
        final one well, so screening is cheap insurance (about
        ``n_init * init_epochs`` extra epochs). ``n_init=1`` trains the one
        initialisation of ``random_state`` (the paper's procedure); ignored
        when ``module`` is an instance.
    init_epochs : int, default=10
        Length of the screening runs in epochs, capped at a tenth of the
        budget (``max_epochs // 10`` epochs, or ``max_steps // 10`` steps;
        at least one).
    weight_decay : float, default=0.0
        Decoupled weight decay for ``"adamw"``, L2 penalty in the gradient
        for ``"adam"``/``"sgd"``, penalty ``weight_decay / 2 * ||theta||^2``
        for ``"lbfgs"``.
    tol : float, default=1e-10
        Only for L-BFGS: it stops when the gradient's largest entry or the
        relative change of the loss falls below ``tol``.
    dtype : {"float32", "float64"}, default="float32"
        Precision of training and of ``module_`` (float32 as in the paper;
        use float64 with L-BFGS).
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Where training and the forward pass run.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and the mini-batch shuffling.
    verbose : int, default=0
        Show a tqdm progress bar when positive.
    **kwargs : dict
        ``module__<name>`` parameters of the module class, e.g.
        ``module__n_layers=8``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The learned representation ``h`` (in eval mode, on ``device_``), a
        function of the raw inputs.
    task_heads_ : ndarray of shape (rep_dim, n_tasks)
        The task heads used (given or learned).
    task_intercepts_ : ndarray of shape (n_tasks,)
        Their intercepts.
    loss_curve_ : list of float
        Training loss per epoch (mean mini-batch loss), or per chunk of 10
        L-BFGS iterations plus the final loss.
    history_ : list of dict
        ``{"epoch": i, "train_loss": loss}`` for each entry of
        ``loss_curve_``.
    n_iter_ : int
        L-BFGS iterations or epochs run (the last one possibly partial with
        ``max_steps``).
    n_steps_ : int
        Optimiser steps (mini-batch updates, or L-BFGS iterations) of the
        final training run.
    init_losses_ : ndarray of shape (n_init,)
        Loss of each screened initialisation after ``init_epochs`` (zeros
        when ``n_init=1``).
    best_init_ : int
        Index of the initialisation trained in full.
    train_loss_ : float
        The eq. (9) loss on all observed entries at the end of training.
    device_ : str
        The resolved device.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    TorchFeaturizer : A fixed module as a featurizer.
    SkorchFeaturizer : Learns a representation with skorch's training loop.
    skwtsg.datasets.make_synthetic_tasks : The paper's pretraining data.

    Notes
    -----
    Inputs are used raw: ``module_`` is ``h`` itself, a function of raw
    ``x``. Adam is invariant to the scale of each parameter, so the paper's
    ``N(0, 500^2)`` inputs need no rescaling (rescaling them made L-BFGS
    worse, and L-BFGS, even in float64, stalls on the deep ReLU networks:
    see ``benchmarks/bench_representations.py`` for the figures of each
    optimizer at the paper's sizes). The mini-batch methods shuffle all rows
    together each epoch (the authors' code visits the tasks one after the
    other); a step's loss is the mean over the observed entries of its
    mini-batch.

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
            Labels of the pretraining tasks; NaN marks an entry without a
            label (e.g. a row of another task).

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
        rep_dim = _forward_numpy(
            _build_module(self.module, module_kwargs, X.shape[1], seed, device="cpu"),
            X[:1],
            batch_size=1,
            device="cpu",
        ).shape[1]
        fixed_heads = self._check_task_heads(rep_dim, n_tasks)

        def tensor(a):
            return torch.tensor(np.ascontiguousarray(a), device=device).to(dtype)

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
                with _torch_seeded(init_seed + 1, "cpu"):
                    linear = torch.nn.Linear(rep_dim, n_tasks)
                W = torch.nn.Parameter(tensor(linear.weight.detach().numpy().T))
                b = torch.nn.Parameter(tensor(linear.bias.detach().numpy()))
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

        # steps per epoch (L-BFGS: one iteration is a step over all rows)
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
        for p in net.parameters():
            p.requires_grad_(False)
        self.module_ = net
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
