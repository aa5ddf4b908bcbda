"""Convex combinations of weak supervisors, with weights chosen by the bound.

A mixture ``f_w = sum_k w_k f_k`` of K weak supervisors (``w`` on the
simplex) is itself a weak supervisor. When the strong head's fit is linear
in its labels (exact least squares, ridge with a fixed penalty), the strong
model trained on the mixture's labels is ``s_w = sum_k w_k s_k``, with
``s_k`` the strong model trained on supervisor ``k``'s labels, which
:class:`~skwtsg.WeakSupervisorSearch` computes anyway (one stacked fit).
Since the weights sum to one, every residual of the mixture is the same
mixture of the supervisors' residuals::

    f_w - y = sum_k w_k (f_k - y),  s_w - y = sum_k w_k (s_k - y),
    s_w - f_w = sum_k w_k (s_k - f_k),

so each diagnostic of Theorem 1 is a quadratic form ``w' G w`` whose K x K
matrix ``G`` holds the weighted inner products of the supervisors'
residuals on the rows where that diagnostic is measured. The matrices are
kept as a :class:`~skwtsg._diagnostics.Diagnostics` record (a per-row
"loss" per pair of supervisors), so that :meth:`Diagnostics.select`
chooses their rows exactly as it does for one supervisor.

The weights minimising the bound ``weak_error(w) - misfit(w)`` solve a
quadratic programme over the simplex. Weak error and misfit are positive
semidefinite forms, so the bound's form is their difference and can be
indefinite: :func:`minimize_on_simplex` solves it exactly by enumerating the
faces of the simplex (see its Notes).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from .._backends._common import _head_predict
from .._backends._memory import WeakSide, diagnostics
from .._diagnostics import DIAGNOSTICS, Diagnostics
from ..heads import LeastSquaresHead, RidgeHead, RidgeLOOHead
from ..heads._ridge_loo import _check_alpha_grid
from ..metrics import weak_to_strong_report

__all__ = [
    "MAX_EXACT_SUPERVISORS",
    "check_combinable_head",
    "fit_mixture",
    "minimize_on_simplex",
    "mixture_predictions",
]

#: The most supervisors whose bound-optimal weights are computed exactly
#: (the enumeration visits the 2**K - 1 faces of the simplex).
MAX_EXACT_SUPERVISORS = 16

#: The fitted attributes of a mixture (see :func:`fit_mixture`).
MIXTURE_ATTRIBUTES = (
    "weights_",
    "mixture_forms_",
    "qp_certificate_",
    "mixture_report_",
    "mixture_train_report_",
    "mixture_diagnostic_rows_",
    "mixture_intervals_",
)

#: Values of ``combine``.
COMBINE_OPTIONS = ("bound", "uniform")

#: Supported strong heads, for the error messages.
SUPPORTED_HEADS = (
    "LeastSquaresHead, RidgeHead, or RidgeLOOHead with a single alpha "
    "(alphas=[a]): heads whose fit is linear in their labels"
)

#: Rows of per-row products computed at once (bounds the memory used).
_CHUNK_VALUES = 2_000_000


def check_combinable_head(head: Any) -> None:
    """Raise unless the strong model trained on a mixture is the mixture of theirs.

    Parameters
    ----------
    head : regressor
        The (unfitted) strong head.

    Raises
    ------
    ValueError
        When ``head`` is not one of the heads linear in their labels.

    Examples
    --------
    >>> from skwtsg.heads import RidgeLOOHead
    >>> from skwtsg.model_selection._ensemble import check_combinable_head
    >>> check_combinable_head(RidgeLOOHead(alphas=[10.0]))
    >>> check_combinable_head(RidgeLOOHead())
    Traceback (most recent call last):
    ...
    ValueError: `combine` needs a strong `head` whose fit is linear in its labels...
    """
    kind = type(head)
    if kind in (LeastSquaresHead, RidgeHead):
        return
    reason = f"got {kind.__name__}"
    if kind is RidgeLOOHead:
        if np.size(_check_alpha_grid(head.alphas, "alphas")) == 1:
            return
        reason = (
            "got RidgeLOOHead with several alphas: the penalty it chooses "
            "depends on the labels, so its fit is not linear in them"
        )
    raise ValueError(
        "`combine` needs a strong `head` whose fit is linear in its labels, so "
        "that the strong model trained on a mixture of weak supervisors is the "
        f"same mixture of their strong models: {SUPPORTED_HEADS}; {reason}."
    )


def check_n_supervisors(n: int) -> None:
    """Raise when the bound-optimal weights of ``n`` supervisors are not exact."""
    if n > MAX_EXACT_SUPERVISORS:
        raise ValueError(
            f"combine='bound' solves its quadratic programme exactly by "
            f"enumerating the 2**K - 1 faces of the simplex, for at most "
            f"{MAX_EXACT_SUPERVISORS} weak supervisors; `weak_supervisors` has "
            f"{n}. Use combine='uniform', or fewer supervisors."
        )


def minimize_on_simplex(Q: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Minimise ``w' Q w`` over the simplex exactly, with a certificate.

    Parameters
    ----------
    Q : array-like of shape (K, K) or (n_problems, K, K)
        Symmetric matrices (the symmetric part is used); any sign.

    Returns
    -------
    weights : ndarray of shape (K,) or (n_problems, K)
        A global minimiser (``w >= 0``, ``sum(w) = 1``) of smallest support.
    certificate : dict
        ``value``: the minimum; ``kkt_residual``: the largest violation of
        the KKT conditions of the simplex at ``weights`` (stationarity on
        the support, ``(Qw)_k`` at least its value there off the support),
        relative to ``max|Q|``: 0 at a KKT point, rounding otherwise;
        ``vertex_gap``: the smallest diagonal entry (the best single
        supervisor) minus the minimum, ``>= 0``; ``convex``: whether ``Q``
        is positive semidefinite on the simplex's directions (then the KKT
        conditions alone prove the minimum global); ``n_faces``: the faces
        enumerated, ``2**K - 1``; ``method``: ``"enumeration"``. Floats (or
        arrays of one value per problem).

    Notes
    -----
    On the relative interior of a face (the points with support ``S``), a
    minimiser satisfies ``Q_SS w_S = lambda 1`` and ``1' w_S = 1``. If the
    form is not strictly convex on that face, it is constant along a
    direction of the face and a minimiser of smaller support exists. So a
    global minimiser is the solution of the (nonsingular) KKT system of
    some face, and the smallest of the feasible face solutions (vertices
    included) is the global minimum, convex form or not. Each face's
    system is solved with :func:`numpy.linalg.solve` (for all problems at
    once) and every candidate is evaluated at its (clipped, renormalised)
    feasible point, so the minimum reported is attained. The cost is
    ``2**K`` small solves, for ``K <= MAX_EXACT_SUPERVISORS``. Written here
    rather than with :func:`scipy.optimize.minimize`, whose local methods
    (SLSQP, trust-constr) certify only a local minimum of an indefinite
    form.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.model_selection._ensemble import minimize_on_simplex
    >>> w, cert = minimize_on_simplex(np.array([[1.0, -1.0], [-1.0, 1.0]]))
    >>> w.tolist(), round(cert["value"], 12), cert["convex"]
    ([0.5, 0.5], 0.0, True)
    >>> w, cert = minimize_on_simplex(np.array([[1.0, 2.0], [2.0, 0.5]]))
    >>> w.tolist(), cert["value"], cert["convex"]
    ([0.0, 1.0], 0.5, False)
    """
    Q = np.asarray(Q, dtype=np.float64)
    single = Q.ndim == 2
    Qs = Q[None] if single else Q
    if Qs.ndim != 3 or Qs.shape[1] != Qs.shape[2] or Qs.shape[1] == 0:
        raise ValueError(f"Q must be square matrices; got shape {Q.shape}.")
    if not np.isfinite(Qs).all():
        raise ValueError("Q must be finite.")
    m, K, _ = Qs.shape
    check_n_supervisors(K)
    Qs = (Qs + Qs.transpose(0, 2, 1)) / 2
    scale = np.abs(Qs).max(axis=(1, 2))
    scale[scale == 0] = 1.0
    Qn = Qs / scale[:, None, None]

    best_w = np.zeros((m, K))
    best_f = np.full(m, np.inf)
    for size in range(1, K + 1):
        rhs = np.zeros(size + 1)
        rhs[size] = 1.0
        for support in combinations(range(K), size):
            idx = np.array(support)
            if size == 1:
                w_S = np.ones((m, 1))
            else:
                system = np.zeros((m, size + 1, size + 1))
                system[:, :size, :size] = Qn[:, idx[:, None], idx]
                system[:, :size, size] = 1.0
                system[:, size, :size] = 1.0
                w_S = _solve_each(system, rhs)[:, :size]
            feasible = np.asarray(
                np.isfinite(w_S).all(axis=1) & (w_S >= -1e-9).all(axis=1), dtype=bool
            )
            if not feasible.any():
                continue
            w_S = np.clip(np.where(feasible[:, None], w_S, 1.0), 0.0, None)
            w_S /= w_S.sum(axis=1, keepdims=True)
            w = np.zeros((m, K))
            w[:, idx] = w_S
            f = np.einsum("pi,pij,pj->p", w, Qn, w)
            # strictly better beyond rounding: ties keep the smaller support
            better = feasible & (f < best_f - 1e-13)
            best_w[better] = w[better]
            best_f[better] = f[better]

    certificate = _certificate(Qs, best_w, scale)
    certificate["n_faces"] = 2**K - 1
    certificate["method"] = "enumeration"
    if single:
        return best_w[0], _first(certificate)
    return best_w, certificate


def _first(certificate: dict[str, Any]) -> dict[str, Any]:
    """The certificate of the first problem, as Python scalars."""
    return {
        k: (v[0].item() if isinstance(v, np.ndarray) else v)
        for k, v in certificate.items()
    }


def _solve_each(system: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve every system; NaN where one is singular."""
    try:
        b = np.broadcast_to(rhs, system.shape[:2])[..., None]
        return np.linalg.solve(system, b)[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(system.shape[:2], np.nan)
        for p in range(len(system)):
            try:
                out[p] = np.linalg.solve(system[p], rhs)
            except np.linalg.LinAlgError:
                pass
        return out


def _certificate(Q: np.ndarray, w: np.ndarray, scale: np.ndarray) -> dict:
    """KKT residual, gap to the best vertex and convexity, per problem."""
    m, K, _ = Q.shape
    value = np.einsum("pi,pij,pj->p", w, Q, w)
    g = np.einsum("pij,pj->pi", Q, w)  # half the gradient
    on = w > 0
    nu = np.where(on, g, 0.0).sum(axis=1) / on.sum(axis=1)
    stationarity = np.where(on, np.abs(g - nu[:, None]), 0.0).max(axis=1)
    dual = np.where(on, 0.0, np.clip(nu[:, None] - g, 0.0, None)).max(axis=1)
    kkt = np.maximum(stationarity, dual) / scale
    vertex_gap = np.diagonal(Q, axis1=1, axis2=2).min(axis=1) - value
    if K > 1:
        # an orthonormal basis of the directions of the simplex (1'v = 0)
        basis = np.linalg.svd(np.ones((1, K)))[2][1:].T
        reduced = np.einsum("ia,pij,jb->pab", basis, Q, basis)
        lowest = np.linalg.eigvalsh(reduced)[:, 0]
        convex = lowest >= -1e-10 * scale
    else:
        convex = np.ones(m, dtype=bool)
    return {
        "value": value,
        "kkt_residual": kkt,
        "vertex_gap": vertex_gap,
        "convex": convex,
    }


def _stack(arrays: list[Any]) -> np.ndarray | None:
    """Per-supervisor outputs as one ``(n_rows, n_outputs, K)`` array."""
    if any(a is None for a in arrays):
        return None
    n = np.shape(arrays[0])[0]
    return np.stack([np.reshape(a, (n, -1)) for a in arrays], axis=-1)


def _mix(stacked: np.ndarray | None, weights: np.ndarray, ndim: int) -> Any:
    """``sum_k w_k out_k`` per output, shaped like ``y``."""
    if stacked is None:
        return None
    mixed = np.einsum("nmk,mk->nm", stacked, weights)
    return mixed.ravel() if ndim == 1 else mixed


def _gram_record(
    row_set: str,
    y: np.ndarray,
    weak: np.ndarray | None,
    strong: np.ndarray | None,
    labeled: np.ndarray,
    weights: np.ndarray | None,
    shape: tuple[int, int],
) -> Diagnostics:
    """The record of the inner products of every pair of supervisors' residuals.

    Its per-row "losses" are ``r_ik r_il`` for every pair ``(k, l)`` and
    output, with ``r`` the weak residual (``weak_error``), the strong
    residual (``strong_error``) or their difference (``misfit``), so that
    its means are the K x K matrices of the quadratic forms.
    """
    m, K = shape
    n = len(labeled)
    width = m * K * K
    Y = y.reshape(n, m, 1)
    residuals = {
        "weak_error": None if weak is None else weak - Y,
        "strong_error": None if strong is None else strong - Y,
        "misfit": None if weak is None or strong is None else strong - weak,
    }
    step = max(1, _CHUNK_VALUES // width)
    record = None
    for start in range(0, max(n, 1), step):
        rows = slice(start, start + step)
        losses = {
            name: None
            if r is None
            else np.einsum("nmk,nml->nmkl", r[rows], r[rows]).reshape(-1, width)
            for name, r in residuals.items()
        }
        part = Diagnostics.from_rows(
            row_set,
            losses,
            labeled[rows],
            None if weights is None else weights[rows],
            ndim=2,
            n_outputs=width,
        )
        record = part if record is None else record + part
    assert record is not None
    return record


def quadratic_forms(
    data: Any, sides: list[WeakSide], strong: list[tuple[Any, Any]]
) -> dict[str, np.ndarray]:
    """The K x K matrices of every diagnostic, on the rows it is measured on.

    Parameters
    ----------
    data : _FitData
        The search's rows and roles.
    sides : list of WeakSide
        Each supervisor's weak labels and predictions.
    strong : list of (ndarray, ndarray or None)
        Each supervisor's strong model on the strong rows and the eval rows.

    Returns
    -------
    forms : dict of str to ndarray of shape (n_outputs, K, K)
        For each of :data:`~skwtsg._diagnostics.DIAGNOSTICS`, ``G`` such
        that the mixture ``w`` (one row of weights per output) has that
        diagnostic ``w' G w`` per output, measured where
        :meth:`~skwtsg._diagnostics.Diagnostics.select` measures it.
    """
    split = data.split
    y = data.y
    m = 1 if y.ndim == 1 else y.shape[1]
    K = len(sides)
    shape = (m, K)

    def record(row_set, index, weak, strong_out):
        return _gram_record(
            row_set,
            y[index],
            weak,
            strong_out,
            data.labeled[index],
            data.weights(index),
            shape,
        )

    total = record(
        "strong",
        split.strong_rows,
        _stack([s.labels for s in sides]),
        _stack([s[0] for s in strong]),
    )
    total += record("weak", split.weak_rows, _stack([s.on_weak for s in sides]), None)
    if len(split.eval_rows):
        total += record(
            "eval",
            split.eval_rows,
            _stack([s.on_eval for s in sides]),
            _stack([s[1] for s in strong]),
        )
    values, _, _ = total.select(reuse=split.reuse)
    forms = {}
    for name in DIAGNOSTICS:
        G = np.asarray(values[name], dtype=np.float64).reshape(m, K, K)
        forms[name] = (G + G.transpose(0, 2, 1)) / 2
    return forms


def fit_mixture(
    combine: str,
    task: Any,
    data: Any,
    sides: list[WeakSide],
    strong: list[tuple[Any, Any]],
    *,
    confidence_level: float | None,
    random_state: Any,
    n_resamples: int = 9999,
) -> dict[str, Any]:
    """The fitted attributes of a search's mixture of its weak supervisors.

    Parameters
    ----------
    combine : {"bound", "uniform"}
        How the weights are chosen.
    task : _RegressionTask
        The search's task.
    data : _FitData
        Its rows and roles.
    sides : list of WeakSide
        Each supervisor's fitted weak side, in the order of the supervisors.
    strong : list of (ndarray, ndarray or None)
        Each supervisor's strong model on the strong rows and the eval rows.
    confidence_level : float or None
        Level of the bootstrap intervals on the eval rows (None: none).
    random_state : int, RandomState instance or None
        Seeds the bootstrap.
    n_resamples : int, default=9999
        Bootstrap resamples of the intervals (the search's ``n_resamples``).

    Returns
    -------
    attributes : dict
        ``weights_``, ``mixture_forms_``, ``qp_certificate_``,
        ``mixture_report_``, ``mixture_train_report_``,
        ``mixture_diagnostic_rows_``, ``mixture_intervals_``.
    """
    ndim = task.ndim
    forms = quadratic_forms(data, sides, strong)
    m, K, _ = forms["bound"].shape
    certificate = None
    if combine == "bound":
        if not np.isfinite(forms["bound"]).all():
            raise ValueError(
                "combine='bound' needs the bound of every weak supervisor, but "
                "it is not measured here (NaN): the weak error needs labeled "
                "rows (eval rows, labeled strong rows, or weak rows)."
            )
        weights, certificate = minimize_on_simplex(forms["bound"])
    else:
        weights = np.full((m, K), 1.0 / K)

    side = WeakSide(
        featurizer=None,
        head=None,
        labels=_mix(_stack([s.labels for s in sides]), weights, ndim),
        on_eval=_mix(_stack([s.on_eval for s in sides]), weights, ndim),
        on_weak=_mix(_stack([s.on_weak for s in sides]), weights, ndim),
    )
    outputs = (
        _mix(_stack([s[0] for s in strong]), weights, ndim),
        _mix(_stack([s[1] for s in strong]), weights, ndim),
    )
    split = data.split
    report, rows, train = diagnostics(task, data, side, outputs).select(
        reuse=split.reuse
    )
    intervals = None
    if confidence_level is not None and len(split.eval_rows):
        index = split.eval_rows
        full = weak_to_strong_report(
            data.y[index],
            side.on_eval,
            outputs[1],
            sample_weight=data.weights(index),
            multioutput="uniform_average" if ndim == 1 else "raw_values",
            confidence_level=confidence_level,
            n_resamples=n_resamples,
            random_state=check_random_state(random_state),
        )
        intervals = {k: v for k, v in full.items() if k.endswith("_ci")}
    if ndim == 1:
        weights = weights[0]
        forms = {k: v[0] for k, v in forms.items()}
        certificate = None if certificate is None else _first(certificate)
    return {
        "weights_": weights,
        "mixture_forms_": forms,
        "qp_certificate_": certificate,
        "mixture_report_": report,
        "mixture_train_report_": train,
        "mixture_diagnostic_rows_": rows,
        "mixture_intervals_": intervals,
    }


def mixture_predictions(search: Any, X: Any, *, weak: bool = False) -> np.ndarray:
    """Each supervisor's strong (or weak) model on ``X``: ``(n, n_outputs, K)``.

    Parameters
    ----------
    search : WeakSupervisorSearch
        Fitted.
    X : array-like or DataFrame
        Validated inputs, as the featurizers take them.
    weak : bool, default=False
        The weak models instead of the strong ones.

    Returns
    -------
    outputs : ndarray of shape (n_samples, n_outputs, n_supervisors)
    """
    names = list(search.output_columns_)
    if weak:
        outs = []
        for name in names:
            featurizer, head = search.weak_models_[name]
            outs.append(_head_predict(head, featurizer.transform(X), 2))
    else:
        Z = search.strong_featurizer_.transform(X)
        cache: dict[int, np.ndarray] = {}
        outs = []
        for name in names:
            head = search.strong_heads_[name]
            if id(head) not in cache:
                cache[id(head)] = _head_predict(head, Z, 2)
            outs.append(cache[id(head)][:, search.output_columns_[name]])
    stacked = _stack(outs)
    assert stacked is not None
    return stacked


def mix(outputs: np.ndarray, weights: np.ndarray, ndim: int) -> np.ndarray:
    """The mixture of per-supervisor outputs with weights ``(K,)`` or ``(m, K)``."""
    w = np.atleast_2d(weights)
    w = np.broadcast_to(w, (outputs.shape[1], outputs.shape[2]))
    out = _mix(outputs, w, ndim)
    assert out is not None
    return out
