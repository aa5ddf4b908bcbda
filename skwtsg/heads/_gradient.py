# mypy: allow-redefinition
"""Heads trained by gradient methods: the paper's procedure and ``phi∘linear``.

Both fit all tasks (columns of ``y``) at once: the torch optimizers train one
``(n_features, n_tasks)`` weight matrix on the sum of the tasks' mean squared
errors; ``NonConvexHead``'s ``optimizer="lm"`` solves each task on its own
with Levenberg-Marquardt (:mod:`skwtsg.heads._phi_linear`, without torch).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from .._utils._docstrings import fill_doc_with
from .._utils._torch import (
    _DTYPES,
    _OPTIMIZERS,
    _check_finite_output,
    _import_torch,
    _linear_init,
    _optimize,
    _resolve_device,
    _seed_from,
    _to_tensor,
    _torch_dtype,
    _training_defaults,
)
from ._phi_linear import (
    _fit_levenberg_marquardt,
    _inverse_link,
    _phi_numpy,
    _weighted_lstsq,
)
from ._tags import HeadTags, SkwtsgTags

__all__ = ["GradientLinearHead", "NonConvexHead"]

_PHIS = ("tanh", "relu", "sigmoid")

#: The attributes both heads document.
_FITTED = """\
intercept_ : float or ndarray of shape (n_tasks,)
    Intercepts.
train_loss_ : float
    Final training mean squared error, averaged over tasks.
device_ : str
    The resolved device.
{features_in}"""


def _phi_torch(name):
    torch = _import_torch()
    return {
        "identity": lambda z: z,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
    }[name]


def _relative_gradient_norm(Z, Y, w, W, b, *, fit_intercept, weight_decay):
    """``||grad F(W, b)|| / ||grad F(0, 0)||`` of ``F = sum_t mse_t(W, b) +
    weight_decay / 2 * ||W||^2`` on ``Z`` with normalised weights ``w``."""
    R = Z @ W + b - Y
    wr = w[:, None] * R
    wy = w[:, None] * Y
    g = [2.0 * Z.T @ wr + weight_decay * W]
    g0 = [-2.0 * Z.T @ wy]
    if fit_intercept:
        g.append(2.0 * wr.sum(axis=0))
        g0.append(-2.0 * wy.sum(axis=0))
    num = np.sqrt(sum(float(np.sum(a * a)) for a in g))
    den = np.sqrt(sum(float(np.sum(a * a)) for a in g0))
    return float(num / max(den, np.finfo(np.float64).tiny))


class _TorchHead(RegressorMixin, BaseEstimator):
    """Shared ``fit``/``predict`` of ``phi(X @ coef_.T + intercept_)``."""

    _activation = "identity"
    _default_init = "random"

    _parameter_constraints: dict = {
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "lr": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), None],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "init": [StrOptions({"random", "lstsq"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "dtype": [StrOptions(set(_DTYPES))],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _phi(self):
        return self._activation

    def __sklearn_tags__(self):
        tags = SkwtsgTags.from_tags(super().__sklearn_tags__())
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> _TorchHead:
        """Fit the head on all tasks (columns of ``y``) at once.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Representations ``h(x)``.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the squared errors.

        Returns
        -------
        self : object
            Fitted head.
        """
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float64
        )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        if not sample_weight.sum() > 0:
            raise ValueError("`sample_weight` must have a positive sum.")
        phi = self._phi()
        Y = y.reshape(y.shape[0], -1)
        n_samples, n_features = X.shape
        n_tasks = Y.shape[1]
        if self.optimizer == "lm":
            if self.dtype != "float64" or self.device not in ("cpu", "auto"):
                raise ValueError(
                    "optimizer='lm' runs in float64 on the CPU (numpy and scipy): "
                    f"use dtype='float64' and device='cpu', got dtype={self.dtype!r}"
                    f", device={self.device!r}."
                )
            lr, batch_size = None, None
            max_epochs = 1000 if self.max_epochs is None else self.max_epochs
            device = "cpu"
        else:
            lr, batch_size, max_epochs = _training_defaults(
                self.optimizer, self.lr, self.batch_size, self.max_epochs
            )
            device = _resolve_device(self.device)
        self.device_ = device
        seed = _seed_from(self.random_state)
        w = sample_weight / sample_weight.sum()

        if self.standardize:
            mean = w @ X if self.fit_intercept else np.zeros(n_features)
            scale = np.sqrt(w @ (X - mean) ** 2)
            scale[scale <= 1e-12 * max(1.0, float(np.abs(X).max()))] = 1.0
        else:
            mean, scale = np.zeros(n_features), np.ones(n_features)
        Z = (X - mean) / scale

        if self.init == "lstsq":
            W0, b0 = _weighted_lstsq(Z, _inverse_link(phi, Y), w, self.fit_intercept)
        else:
            W0, b0 = _linear_init(n_features, n_tasks, seed)
            if not self.fit_intercept:
                b0 = np.zeros(n_tasks)

        if self.optimizer == "lm":
            W_std, b_std, (first, last), nfev, converged = _fit_levenberg_marquardt(
                Z,
                Y,
                w,
                W0,
                b0,
                phi=phi,
                fit_intercept=self.fit_intercept,
                weight_decay=self.weight_decay,
                max_nfev=max_epochs,
                tol=self.tol,
            )
            if not converged.all():
                warnings.warn(
                    f"{type(self).__name__}: Levenberg-Marquardt stopped at "
                    f"max_epochs={max_epochs} evaluations before converging for "
                    f"{int((~converged).sum())} of {n_tasks} tasks; increase "
                    "max_epochs or tol.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
            curve = [float(first.sum()), float(last.sum())]
            n_iter = int(nfev.max(initial=0))
        else:
            W_std, b_std, curve, n_iter = self._fit_torch(
                Z, Y, sample_weight, W0, b0, phi, lr, batch_size, max_epochs, seed
            )
        _check_finite_output(
            np.concatenate([W_std.ravel(), b_std]),
            estimator=type(self).__name__,
            what="the fitted coefficients",
            optimizer=self.optimizer,
            lr=lr,
        )

        if phi == "identity":
            self.kkt_residual_ = _relative_gradient_norm(
                Z,
                Y,
                w,
                W_std,
                b_std,
                fit_intercept=self.fit_intercept,
                weight_decay=self.weight_decay,
            )
        W = W_std / scale[:, None]
        b = np.zeros(n_tasks)
        if self.fit_intercept:
            b = b_std - mean @ W
        self.loss_curve_ = [loss / n_tasks for loss in curve]
        self.n_iter_ = n_iter
        if y.ndim == 1:
            self.coef_ = W[:, 0].copy()
            self.intercept_: float | np.ndarray = float(b[0])
        else:
            self.coef_ = W.T.copy()
            self.intercept_ = b
        self.train_loss_ = float(
            np.mean(
                sample_weight
                @ (self._predict_raw(X).reshape(Y.shape) - Y) ** 2
                / sample_weight.sum()
            )
        )
        _check_finite_output(
            self.train_loss_,
            estimator=type(self).__name__,
            what="the training error of the fitted head",
            optimizer=self.optimizer,
            lr=lr,
        )
        return self

    def _fit_torch(
        self, Z, Y, sample_weight, W0, b0, phi, lr, batch_size, max_epochs, seed
    ):
        """Train on the standardised problem with torch (one loop, all tasks)."""
        torch = _import_torch()
        device, dtype = self.device_, _torch_dtype(self.dtype)
        n_tasks = Y.shape[1]

        def tensor(a):
            return _to_tensor(a, device, dtype)

        Wt = torch.nn.Parameter(tensor(W0))
        bt = torch.nn.Parameter(tensor(b0))
        Zt, Yt, wt = tensor(Z), tensor(Y), tensor(sample_weight)
        act = _phi_torch(phi)
        fit_intercept = self.fit_intercept

        def loss_fn(zb, yb, wb):
            lin = zb @ Wt
            if fit_intercept:
                lin = lin + bt
            residual = act(lin) - yb
            per_task = (wb[:, None] * residual * residual).sum(0) / wb.sum()
            return per_task.sum()

        groups = [{"params": [Wt], "weight_decay": self.weight_decay}]
        if self.fit_intercept:
            groups.append({"params": [bt], "weight_decay": 0.0})
        curve, n_iter = _optimize(
            groups,
            loss_fn,
            (Zt, Yt, wt),
            optimizer=self.optimizer,
            lr=lr,
            batch_size=batch_size,
            max_epochs=max_epochs,
            tol=self.tol,
            seed=seed,
            verbose=self.verbose,
            desc=type(self).__name__,
        )
        W_std = Wt.detach().to("cpu", torch.float64).numpy()
        b_std = bt.detach().to("cpu", torch.float64).numpy()
        if not self.fit_intercept:
            b_std = np.zeros(n_tasks)
        return W_std, b_std, curve, n_iter

    def _predict_raw(self, X):
        return _phi_numpy(self._phi(), X @ self.coef_.T + self.intercept_)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict ``phi(X @ coef_.T + intercept_)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Representations.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            Predictions.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._predict_raw(X)


@fill_doc_with(fitted=_FITTED)
class GradientLinearHead(_TorchHead):
    """Linear head trained by a gradient method: the paper's procedure.

    The paper fits its linear heads with Adam, batch size 32, learning rate
    ``1e-3`` and 1000 epochs (appendix F): the defaults. The function set is
    convex, but the head only approximates the exact minimiser; its tags say
    so (``convex`` but not ``exact``) and the fitted head reports the
    optimisation error as ``kkt_residual_``. A run whose loss, weights or
    predictions become non-finite raises an error naming what to change.

    Parameters
    ----------
    optimizer : {"adamw", "adam", "sgd", "lbfgs"}, default="adamw"
        ``"adamw"`` as in the authors' code (with ``weight_decay=0`` it is
        Adam); ``"lbfgs"`` is full-batch L-BFGS with a strong-Wolfe line
        search (use ``lr=None`` or 1 with it).
    lr : float or None, default=1e-3
        Learning rate (``None``: 1e-3, or 1.0 for L-BFGS).
    batch_size : int or None, default=32
        Mini-batch size (``None``: 32); L-BFGS is full-batch.
    max_epochs : int or None, default=1000
        Epochs, or L-BFGS iterations (``None``: 1000).
    weight_decay : float, default=0.0
        Weight decay of the weights (not of the intercept).
    fit_intercept : bool, default=True
        Whether to fit an intercept per task.
    standardize : bool, default=False
        Train on standardised features (an exact reparametrisation: the
        fitted ``coef_``, ``intercept_`` act on the raw features).
    init : {"random", "lstsq"}, default="random"
        ``torch.nn.Linear``'s initialisation seeded by ``random_state`` (the
        paper), or the least-squares solution.
    tol : float, default=1e-10
        Convergence tolerance of L-BFGS.
    dtype : {"float32", "float64"}, default="float64"
        Training precision.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Where training runs.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and the mini-batch shuffling.
    verbose : int, default=0
        Show a progress bar when positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_tasks, n_features)
        Weights (like :class:`~sklearn.linear_model.LinearRegression`).
    {fitted}
    loss_curve_ : list of float
        Training loss (mean over tasks) per epoch, or per 10 L-BFGS
        iterations.
    kkt_residual_ : float
        The optimisation error: the norm of the gradient of the training
        objective at the fitted parameters relative to its norm at zero,
        computed in float64 (0 at the exact solution; with AdamW's decoupled
        decay, of the L2-penalised problem).
    n_iter_ : int
        Epochs or L-BFGS iterations run.

    See Also
    --------
    NonConvexHead : ``phi∘linear`` heads (appendix D).
    sklearn.linear_model.LinearRegression : The exact solution.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import GradientLinearHead
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 0.3
    >>> head = GradientLinearHead(max_epochs=50, lr=5e-2, random_state=0)
    >>> head.fit(X, y).coef_.round(2)
    array([ 1. , -2. ,  0.5])
    >>> round(head.intercept_, 2)
    0.3
    >>> head.kkt_residual_ < 1e-3
    True
    """

    _activation = "identity"

    def __init__(
        self,
        *,
        optimizer: str = "adamw",
        lr: float | None = 1e-3,
        batch_size: int | None = 32,
        max_epochs: int | None = 1000,
        weight_decay: float = 0.0,
        fit_intercept: bool = True,
        standardize: bool = False,
        init: str = "random",
        tol: float = 1e-10,
        dtype: str = "float64",
        device: str = "cpu",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.weight_decay = weight_decay
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.init = init
        self.tol = tol
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.head_tags = HeadTags(convex=True, exact=False)
        return tags


@fill_doc_with(fitted=_FITTED)
class NonConvexHead(_TorchHead):
    """A ``phi∘linear`` head, a non-convex function set (appendix D).

    Fits ``phi(X @ coef_.T + intercept_)`` by least squares, ``phi`` tanh,
    relu or sigmoid. With ``optimizer="lm"`` each task (column of ``y``) is
    its own problem, solved as if fitted alone; the torch optimizers train
    one weight matrix on the sum of the tasks' losses. The set is not convex,
    so the paper's theorems do not apply (its tags say so); appendix D
    observes that the gain is still close to the misfit.

    Parameters
    ----------
    activation : {"tanh", "relu", "sigmoid"}, default="tanh"
        The non-linearity ``phi``.
    optimizer : {"lm", "lbfgs", "adam", "adamw", "sgd"}, default="lm"
        ``"lm"``: per task, Levenberg-Marquardt
        (:func:`scipy.optimize.least_squares`, exact Jacobian, ``ftol = xtol
        = gtol = tol``) on standardised features, in float64 without torch.
        ``"lbfgs"``: full-batch L-BFGS with torch. ``"adamw"`` with
        ``lr=1e-3, batch_size=32, max_epochs=1000`` is the paper's procedure.
    lr : float or None, default=None
        Learning rate of the torch optimizers (``None``: 1.0 for L-BFGS,
        1e-3 otherwise).
    batch_size : int or None, default=None
        Mini-batch size of the gradient methods (``None``: 32).
    max_epochs : int or None, default=None
        Evaluations of the residuals per task (``"lm"``; a
        :class:`~sklearn.exceptions.ConvergenceWarning` when reached), L-BFGS
        iterations or epochs (``None``: 1000).
    weight_decay : float, default=0.0
        Weight decay (L2 penalty ``weight_decay / 2 * ||coef||^2`` per task
        for ``"lm"`` and L-BFGS), on the standardised scale when
        ``standardize=True``.
    fit_intercept : bool, default=True
        Whether to fit an intercept per task.
    standardize : bool, default=True
        Train on standardised features (an exact reparametrisation).
    init : {"lstsq", "random"}, default="lstsq"
        The least-squares fit of ``phi^{-1}(y)`` (targets clipped into
        ``phi``'s range), or ``torch.nn.Linear``'s initialisation.
    tol : float, default=1e-10
        Convergence tolerance.
    dtype : {"float32", "float64"}, default="float64"
        Training precision of the torch optimizers (``"lm"``: float64 only).
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Where training runs (``"lm"``: the CPU).
    random_state : int, RandomState instance or None, default=None
        Seeds the random initialisation and the mini-batch shuffling.
    verbose : int, default=0
        Show a progress bar when positive (torch optimizers).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_tasks, n_features)
        Weights of the linear map.
    {fitted}
    loss_curve_ : list of float
        Training loss (mean over tasks): at the start and the end (``"lm"``),
        per 10 L-BFGS iterations, or per epoch.
    n_iter_ : int
        The most evaluations of any task (``"lm"``), L-BFGS iterations or
        epochs.

    See Also
    --------
    GradientLinearHead : The linear head trained the paper's way.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import NonConvexHead
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = np.tanh(X @ [1.0, -0.5, 0.2] + 0.1)
    >>> head = NonConvexHead("tanh", random_state=0).fit(X, y)
    >>> head.coef_.round(3), round(head.intercept_, 3)
    (array([ 1. , -0.5,  0.2]), 0.1)
    """

    def __init__(
        self,
        activation: str = "tanh",
        *,
        optimizer: str = "lm",
        lr: float | None = None,
        batch_size: int | None = None,
        max_epochs: int | None = None,
        weight_decay: float = 0.0,
        fit_intercept: bool = True,
        standardize: bool = True,
        init: str = "lstsq",
        tol: float = 1e-10,
        dtype: str = "float64",
        device: str = "cpu",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.weight_decay = weight_decay
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.init = init
        self.tol = tol
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    _parameter_constraints: dict = {
        **_TorchHead._parameter_constraints,
        "optimizer": [StrOptions({*_OPTIMIZERS, "lm"})],
        "activation": [StrOptions(set(_PHIS))],
    }

    def _phi(self):
        return self.activation

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.head_tags = HeadTags(convex=False, exact=False)
        return tags
