"""Representation learning by multi-task pretraining (the paper's eq. (9))."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_consistent_length
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from ._nets import MLP
from ._torch import (
    _DTYPES,
    _OPTIMIZERS,
    _build_module,
    _forward_numpy,
    _import_torch,
    _optimize,
    _resolve_device,
    _seed_from,
    _torch_dtype,
    _torch_seeded,
    _training_defaults,
    _TorchTransformerBase,
)

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
        lr_schedule="constant"`` (appendix F; the paper says Adam, the
        authors' code uses ``torch.optim.AdamW`` with its default
        ``weight_decay=0.01``; with ``weight_decay=0`` AdamW is Adam).
        ``"lbfgs"`` is full-batch L-BFGS with a strong-Wolfe line search
        (pass ``lr=1``); it is exact on smooth problems but slow on deep ReLU
        networks.
    max_epochs : int or None, default=1000
        Epochs of the gradient methods, or L-BFGS iterations (``None``:
        1000).
    lr : float or None, default=3e-3
        Learning rate; for L-BFGS the initial step of the line search
        (``None``: 1e-3, or 1.0 for L-BFGS).
    batch_size : int or None, default=512
        Mini-batch size of the gradient methods (``None``: 32); L-BFGS is
        always full-batch.
    lr_schedule : {"cosine", "constant"}, default="cosine"
        Learning-rate schedule of the gradient methods: cosine annealing from
        ``lr`` to 0 over all the steps, or constant.
    weight_decay : float, default=0.0
        Decoupled weight decay for ``"adamw"``, L2 penalty in the gradient
        for ``"adam"``/``"sgd"``, penalty ``weight_decay / 2 * ||theta||^2``
        for ``"lbfgs"``.
    tol : float, default=1e-10
        Only for L-BFGS: it stops when the gradient's largest entry or the relative change
        of the loss falls below ``tol``.
    dtype : {"float32", "float64"}, default="float64"
        Precision of training and of ``module_``.
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
        L-BFGS iterations or epochs run.
    train_loss_ : float
        The eq. (9) loss on all observed entries at the end of training.
    device_ : str
        The resolved device.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
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
        "lr": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "dtype": [StrOptions(set(_DTYPES))],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        module=MLP,
        *,
        task_heads=None,
        task_intercepts=None,
        optimizer="adam",
        max_epochs=1000,
        lr=3e-3,
        batch_size=512,
        lr_schedule="cosine",
        weight_decay=0.0,
        tol=1e-10,
        dtype="float64",
        device="cpu",
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.module = module
        self.task_heads = task_heads
        self.task_intercepts = task_intercepts
        self.optimizer = optimizer
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.tol = tol
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        vars(self).update(kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, Y):
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
        net = _build_module(
            self.module, module_kwargs, X.shape[1], seed, device=device, dtype=dtype
        )
        net.train()
        for p in net.parameters():
            p.requires_grad_(True)
        rep_dim = _forward_numpy(net, X[:1], batch_size=1, device=device).shape[1]

        if self.task_heads is not None:
            heads = check_array(
                self.task_heads, dtype=np.float64, input_name="task_heads"
            )
            if heads.shape != (rep_dim, n_tasks):
                raise ValueError(
                    "`task_heads` must have shape (rep_dim, n_tasks) = "
                    f"({rep_dim}, {n_tasks}), got {heads.shape}."
                )
            if self.task_intercepts is None:
                intercepts = np.zeros(n_tasks)
            else:
                intercepts = np.asarray(self.task_intercepts, dtype=np.float64)
                if intercepts.shape != (n_tasks,):
                    raise ValueError(
                        f"`task_intercepts` must have shape ({n_tasks},), got "
                        f"{intercepts.shape}."
                    )
            W = torch.as_tensor(heads, dtype=dtype, device=device)
            b = torch.as_tensor(intercepts, dtype=dtype, device=device)
            head_params = []
        else:
            with _torch_seeded(seed + 1, "cpu"):
                linear = torch.nn.Linear(rep_dim, n_tasks)
            W = torch.nn.Parameter(linear.weight.detach().T.contiguous().to(device, dtype))
            b = torch.nn.Parameter(linear.bias.detach().to(device, dtype))
            head_params = [W, b]

        def tensor(a):
            return torch.as_tensor(np.ascontiguousarray(a), device=device).to(dtype)

        Xt = tensor(X[rows])
        Yt = tensor(np.nan_to_num(Y[rows]))
        Mt = tensor(observed[rows])

        def loss_fn(xb, yb, mb):
            residual = (net(xb) @ W + b - yb) * mb
            return (residual * residual).sum() / mb.sum().clamp_min(1.0)

        groups = [{"params": list(net.parameters()), "weight_decay": self.weight_decay}]
        if head_params:
            groups.append({"params": head_params, "weight_decay": self.weight_decay})
        curve, n_iter = _optimize(
            groups,
            loss_fn,
            (Xt, Yt, Mt),
            optimizer=self.optimizer,
            lr=lr,
            batch_size=batch_size,
            max_epochs=max_epochs,
            tol=self.tol,
            seed=seed,
            lr_schedule=self.lr_schedule,
            verbose=self.verbose,
            desc="MultiTaskFeaturizer",
        )
        net.eval()
        with torch.no_grad():
            self.train_loss_ = float(loss_fn(Xt, Yt, Mt))
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
        self._set_n_features_out(X)
        return self
