"""The paper's synthetic weak-to-strong tasks (section 5.1)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import Bunch, check_array, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from .._utils._validation import check_bool

__all__ = ["make_synthetic_tasks", "make_synthetic_labels"]


def _labels(target_module, X, heads, intercepts):
    from .._utils._torch import _forward_numpy

    device = next(target_module.parameters()).device
    H = _forward_numpy(
        target_module, np.asarray(X, dtype=np.float64), batch_size=65536, device=device
    )
    return H @ heads + intercepts


def _draw_heads(rng, hidden, n_tasks, intercept):
    bound = 1.0 / np.sqrt(hidden)
    heads = rng.uniform(-bound, bound, size=(hidden, n_tasks))
    if intercept:
        intercepts = rng.uniform(-bound, bound, size=n_tasks)
    else:
        intercepts = np.zeros(n_tasks)
    return heads, intercepts


@validate_params(
    {
        "n_pretrain_tasks": [Interval(Integral, 1, None, closed="left")],
        "n_pretrain_samples": [Interval(Integral, 1, None, closed="left")],
        "n_tasks": [Interval(Integral, 1, None, closed="left")],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "hidden": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "intercept": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_synthetic_tasks(
    n_pretrain_tasks: int = 10,
    n_pretrain_samples: int = 2000,
    n_tasks: int = 100,
    n_samples: int = 2000,
    *,
    n_features: int = 8,
    hidden: int = 16,
    n_layers: int = 5,
    sigma: float = 500.0,
    intercept: bool = False,
    random_state: int | np.random.RandomState | None = None,
) -> Bunch:
    """Generate the paper's synthetic pretraining and finetuning tasks.

    Section 5.1: the target representation ``h*`` is a random ReLU MLP
    (:func:`~skwtsg.featurizers.make_mlp`), inputs are ``N(0, sigma^2 I)``,
    and a task is a linear head whose entries (and intercept, with
    ``intercept=True``) are ``U(-1/sqrt(hidden), 1/sqrt(hidden))``, as
    ``torch.nn.Linear``'s initialisation. Each pretraining task has its own
    rows; each finetuning role gets its own fresh sample.

    Parameters
    ----------
    n_pretrain_tasks : int, default=10
        ``T``, the number of pretraining tasks.
    n_pretrain_samples : int, default=2000
        ``N_r``, rows per pretraining task.
    n_tasks : int, default=100
        ``M``, the number of finetuning tasks.
    n_samples : int, default=2000
        ``N_f``, rows per role.
    n_features : int, default=8
        Input dimension ``d``.
    hidden : int, default=16
        Width of ``h*`` (the representation's dimension).
    n_layers : int, default=5
        Number of ``Linear`` layers of ``h*``.
    sigma : float, default=500.0
        Standard deviation of every input coordinate.
    intercept : bool, default=False
        Whether the task heads have a random intercept.
    random_state : int, RandomState instance or None, default=None
        Seeds everything (``h*``, heads and inputs).

    Returns
    -------
    tasks : :class:`~sklearn.utils.Bunch`
        With float64 arrays:

        - ``target_module``: ``h*``, a float64 ``torch.nn.Sequential``;
        - ``pretrain_X`` (T * N_r, d) and ``pretrain_Y`` (T * N_r, T): row
          block ``t`` is labelled for task ``t`` only, NaN elsewhere (the
          input of :class:`~skwtsg.featurizers.MultiTaskFeaturizer`);
        - ``pretrain_task`` (T * N_r,): the task of each pretraining row;
        - ``pretrain_heads`` (hidden, T), ``pretrain_intercepts`` (T,);
        - ``heads`` (hidden, M), ``intercepts`` (M,): the finetuning tasks;
        - ``X_weak``, ``X_strong``, ``X_eval`` (N_f, d) and ``y_weak``,
          ``y_strong``, ``y_eval`` (N_f, M): fresh samples for training the
          weak model, for the weak-to-strong step (whose true labels only
          serve diagnostics) and for evaluation, labelled for all M tasks;
        - ``sigma``, ``params`` (the arguments).

    See Also
    --------
    make_synthetic_labels : Labels of new inputs.
    skwtsg.featurizers.MultiTaskFeaturizer : Pretrains ``h_w``, ``h_s``.
    skwtsg.featurizers.perturb_weights : Perturbs ``h*``.

    Examples
    --------
    >>> from skwtsg.datasets import make_synthetic_tasks
    >>> tasks = make_synthetic_tasks(
    ...     n_pretrain_tasks=3, n_pretrain_samples=20, n_tasks=4, n_samples=10,
    ...     random_state=0)
    >>> tasks.pretrain_X.shape, tasks.pretrain_Y.shape, tasks.heads.shape
    ((60, 8), (60, 3), (16, 4))
    >>> tasks.X_weak.shape, tasks.y_eval.shape
    ((10, 8), (10, 4))
    """
    import torch

    from .._utils._torch import _torch_seeded
    from ..featurizers._nets import make_mlp

    rng = check_random_state(random_state)
    # salted, so that h* is not the network a featurizer builds with the same
    # random_state
    seed = int(
        np.random.SeedSequence(
            [rng.randint(np.iinfo(np.int32).max), 0x5EED]
        ).generate_state(1)[0]
        % np.iinfo(np.int32).max
    )
    with _torch_seeded(seed, "cpu"):
        target = make_mlp(in_features=n_features, hidden=hidden, n_layers=n_layers)
    target = target.to(torch.float64).eval()

    T, N_r = n_pretrain_tasks, n_pretrain_samples
    pretrain_heads, pretrain_intercepts = _draw_heads(rng, hidden, T, intercept)
    pretrain_X = rng.normal(0.0, sigma, size=(T * N_r, n_features))
    pretrain_task = np.repeat(np.arange(T), N_r)
    all_labels = _labels(target, pretrain_X, pretrain_heads, pretrain_intercepts)
    pretrain_Y = np.full((T * N_r, T), np.nan)
    pretrain_Y[np.arange(T * N_r), pretrain_task] = all_labels[
        np.arange(T * N_r), pretrain_task
    ]

    heads, intercepts = _draw_heads(rng, hidden, n_tasks, intercept)
    tasks = Bunch(
        target_module=target,
        pretrain_X=pretrain_X,
        pretrain_Y=pretrain_Y,
        pretrain_task=pretrain_task,
        pretrain_heads=pretrain_heads,
        pretrain_intercepts=pretrain_intercepts,
        heads=heads,
        intercepts=intercepts,
        sigma=float(sigma),
        params=dict(
            n_pretrain_tasks=T,
            n_pretrain_samples=N_r,
            n_tasks=n_tasks,
            n_samples=n_samples,
            n_features=n_features,
            hidden=hidden,
            n_layers=n_layers,
            sigma=float(sigma),
            intercept=bool(intercept),
        ),
    )
    for role in ("weak", "strong", "eval"):
        X = rng.normal(0.0, sigma, size=(n_samples, n_features))
        tasks[f"X_{role}"] = X
        tasks[f"y_{role}"] = _labels(target, X, heads, intercepts)
    return tasks


def make_synthetic_labels(
    tasks: Bunch, X: ArrayLike, *, pretrain: bool = False
) -> np.ndarray:
    """True labels ``f_i(h*(x))`` of new inputs for generated tasks.

    Parameters
    ----------
    tasks : Bunch
        The output of :func:`make_synthetic_tasks`.
    X : array-like of shape (n_samples, n_features)
        Inputs, e.g. a fresh draw from ``N(0, tasks.sigma^2 I)``.
    pretrain : bool, default=False
        Label for the pretraining tasks instead of the finetuning tasks.

    Returns
    -------
    Y : ndarray of shape (n_samples, n_tasks)
        Labels of every task (float64).

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.datasets import make_synthetic_labels, make_synthetic_tasks
    >>> tasks = make_synthetic_tasks(n_pretrain_samples=5, n_samples=5,
    ...                              random_state=0)
    >>> Y = make_synthetic_labels(tasks, tasks.X_eval)
    >>> Y.shape, bool(np.allclose(Y, tasks.y_eval))
    ((5, 100), True)
    """
    needed = ("target_module", "params", "heads", "intercepts")
    if not isinstance(tasks, Bunch) or any(k not in tasks for k in needed):
        raise TypeError(
            "`tasks` must be the Bunch returned by make_synthetic_tasks, got "
            f"{type(tasks).__name__}."
        )
    check_bool(pretrain, "pretrain")
    n_features = tasks.params["n_features"]
    if np.ndim(X) != 2 or np.shape(X)[1] != n_features:
        raise ValueError(
            f"`X` must have shape (n_samples, {n_features}), got {np.shape(X)}."
        )
    # Finite and real (complex refused), naming the argument.
    X = check_array(X, dtype=np.float64, input_name="X")
    prefix = "pretrain_" if pretrain else ""
    heads = tasks[prefix + "heads"]
    intercepts = tasks[prefix + "intercepts"]
    for name, values in (
        (prefix + "heads", heads),
        (prefix + "intercepts", intercepts),
    ):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"`tasks.{name}` contains NaN or infinity.")
    Y = _labels(tasks.target_module, X, heads, intercepts)
    if not np.all(np.isfinite(Y)):
        raise ValueError(
            "make_synthetic_labels: the labels overflow (NaN or infinity): `X` "
            "is too large in magnitude for the target network."
        )
    return Y
