"""The division of a weak-to-strong training set into row roles.

Each row plays one of the :data:`ROLES` (see the :ref:`user guide
<data_roles>`): ``"weak"`` trains the weak model on its true label,
``"strong"`` is labelled by the weak model and trains the strong model,
``"both"`` does both and ``"eval"`` is held out for the diagnostics.
Internally a role is its index in :data:`ROLES` (:data:`WEAK`,
:data:`STRONG`, :data:`BOTH`, :data:`EVAL`). Nothing here depends on the
task, the models or the data beyond which rows are labeled: every
weak-to-strong estimator calls :func:`assign_roles` and declares its
``eval_size``/``strong_size`` with :data:`EVAL_SIZE_CONSTRAINTS` and
:data:`STRONG_SIZE_CONSTRAINTS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions

__all__ = [
    "BOTH",
    "EVAL",
    "EVAL_SIZE_CONSTRAINTS",
    "ROLES",
    "STRONG",
    "STRONG_SIZE_CONSTRAINTS",
    "WEAK",
    "RoleAssignment",
    "assign_roles",
    "hash_role_codes",
    "hash_row_classes",
    "roles_of_classes",
]

#: Row roles accepted by ``fit(..., roles=...)``; a role's integer code is its
#: index here.
ROLES = ("weak", "strong", "both", "eval")

#: Integer codes of the roles.
WEAK, STRONG, BOTH, EVAL = range(len(ROLES))

#: ``_parameter_constraints`` entries of ``eval_size`` and ``strong_size``.
EVAL_SIZE_CONSTRAINTS = [
    Interval(RealNotInt, 0, 1, closed="left"),
    Interval(Integral, 0, None, closed="left"),
]
STRONG_SIZE_CONSTRAINTS = [
    Interval(RealNotInt, 0, 1, closed="neither"),
    Interval(Integral, 1, None, closed="left"),
    StrOptions({"reuse"}),
]


@dataclass(frozen=True)
class RoleAssignment:
    """The role of every row, as integer codes and index arrays.

    Attributes
    ----------
    codes : ndarray of int8 of shape (n_samples,)
        The role code of each row (an index into :data:`ROLES`).
    weak_rows : ndarray of int
        Sorted indices of the rows that train the weak model (``"weak"`` or
        ``"both"``).
    strong_rows : ndarray of int
        Sorted indices of the rows that train the strong model (``"strong"``
        or ``"both"``).
    eval_rows : ndarray of int
        Sorted indices of the held-out ``"eval"`` rows.
    """

    codes: NDArray[np.int8]
    weak_rows: NDArray[np.intp]
    strong_rows: NDArray[np.intp]
    eval_rows: NDArray[np.intp]

    @classmethod
    def from_codes(cls, codes: NDArray[np.int8]) -> RoleAssignment:
        """Index arrays of the rows of each role, from the codes."""
        return cls(
            codes=codes,
            weak_rows=np.flatnonzero((codes == WEAK) | (codes == BOTH)),
            strong_rows=np.flatnonzero((codes == STRONG) | (codes == BOTH)),
            eval_rows=np.flatnonzero(codes == EVAL),
        )

    def names(self) -> NDArray[np.str_]:
        """The role of each row as a string (one of :data:`ROLES`)."""
        return np.asarray(ROLES)[self.codes]

    @property
    def reuse(self) -> bool:
        """Whether every strong row also trained the weak model (``"both"``)."""
        return bool(np.all(self.codes[self.strong_rows] == BOTH))


def _count(size: float | int, n: int) -> int:
    """A float fraction (rounded up) or an int count of ``n`` rows."""
    if isinstance(size, Integral):
        return min(int(size), n)
    return int(math.ceil(size * n))


def _codes_from_names(roles: ArrayLike, labeled: NDArray[np.bool_]) -> NDArray[np.int8]:
    """Validate explicit roles (strings) against the labeled mask."""
    n = labeled.shape[0]
    roles = np.asarray(roles, dtype=object)
    if roles.shape != (n,):
        raise ValueError(
            f"`roles` must have shape ({n},) like the rows of X, got {roles.shape}."
        )
    names = roles.astype(str)
    bad = sorted(set(names.tolist()) - set(ROLES))
    if bad:
        raise ValueError(f"`roles` has unknown values {bad}; use {list(ROLES)}.")
    codes = np.empty(n, dtype=np.int8)
    for code, name in enumerate(ROLES):
        codes[names == name] = code
    needs_label = codes != STRONG
    if np.any(needs_label & ~labeled):
        rows = np.flatnonzero(needs_label & ~labeled)[:5].tolist()
        raise ValueError(
            "Rows with role 'weak', 'both' or 'eval' need true labels, "
            f"but y is NaN on rows {rows}."
        )
    return codes


def _split_codes(
    labeled: NDArray[np.bool_],
    eval_size: float | int,
    strong_size: float | int | str,
    random_state: int | np.random.RandomState | None,
) -> NDArray[np.int8]:
    """Random roles: eval rows, then weak/strong (or both) among the labeled."""
    n_labeled = int(labeled.sum())
    if n_labeled == 0:
        raise ValueError(
            "Every row of y is NaN (unlabeled): the weak model needs rows "
            "with true labels."
        )
    rng = check_random_state(random_state)
    lab = rng.permutation(np.flatnonzero(labeled))
    n_eval = _count(eval_size, n_labeled)
    unlabeled = np.flatnonzero(~labeled)
    min_train = 1 if len(unlabeled) or strong_size == "reuse" else 2
    if n_labeled - n_eval < min_train:
        raise ValueError(
            f"Too few labeled rows: {n_labeled} sample(s), of which {n_eval} "
            f"are held out by eval_size={eval_size!r}; at least "
            f"{min_train} must remain to train the models."
        )
    codes = np.empty(labeled.shape[0], dtype=np.int8)
    codes[lab[:n_eval]] = EVAL
    rest = lab[n_eval:]
    if len(unlabeled):
        codes[unlabeled] = STRONG
        codes[rest] = WEAK
    elif strong_size == "reuse":
        codes[rest] = BOTH
    else:
        n_strong = (
            int(strong_size)
            if isinstance(strong_size, Integral)
            else int(math.ceil(float(strong_size) * len(rest)))
        )
        if n_strong > len(rest) - 1:
            raise ValueError(
                f"strong_size={strong_size!r} asks for {n_strong} of the "
                f"{len(rest)} training rows left after eval_size={eval_size!r}, "
                "which leaves no row for the weak model; lower `strong_size` "
                f"(at most {len(rest) - 1} rows here) or `eval_size`."
            )
        codes[rest[:n_strong]] = STRONG
        codes[rest[n_strong:]] = WEAK
    return codes


def assign_roles(
    labeled: ArrayLike,
    *,
    eval_size: float | int = 0.2,
    strong_size: float | int | str = 0.5,
    roles: ArrayLike | None = None,
    random_state: int | np.random.RandomState | None = None,
    fixed_weak: bool = False,
) -> RoleAssignment:
    """Give every row a role: weak, strong, both or eval (a pure function).

    Parameters
    ----------
    labeled : array-like of bool of shape (n_samples,)
        Which rows have a true label.
    eval_size : float or int, default=0.2
        Labeled rows held out as ``"eval"``: a float is a fraction of the
        labeled rows (rounded up), an int a count. Ignored with ``roles``.
    strong_size : float, int or "reuse", default=0.5
        When every row is labeled, the rows of the strong model among those
        not held out: a float fraction (rounded up) or an int count; the rest
        are ``"weak"``; ``"reuse"`` makes them all ``"both"``. When some rows
        are unlabeled they are the ``"strong"`` rows and this is ignored, as
        it is with ``roles``.
    roles : array-like of str of shape (n_samples,), default=None
        Explicit roles (each one of :data:`ROLES`); unlabeled rows may only
        be ``"strong"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the random division (unused with ``roles``).
    fixed_weak : bool, default=False
        The weak model is already fitted (it learns from no row): without
        ``roles``, every row not held out is a ``"strong"`` row, and no row
        need be ``"weak"``.

    Returns
    -------
    assignment : RoleAssignment
        Integer codes and the index arrays of the weak, strong and eval rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg._roles import assign_roles
    >>> split = assign_roles(np.ones(10, dtype=bool), random_state=0)
    >>> len(split.eval_rows), len(split.strong_rows), len(split.weak_rows)
    (2, 4, 4)
    >>> split.names()[:3].tolist()
    ['weak', 'strong', 'eval']
    """
    labeled = np.asarray(labeled, dtype=bool)
    if roles is not None:
        codes = _codes_from_names(roles, labeled)
    else:
        reuse = "reuse" if fixed_weak else strong_size
        codes = _split_codes(labeled, eval_size, reuse, random_state)
        if fixed_weak:  # no row is spent on a model that does not learn
            codes[np.isin(codes, (WEAK, BOTH))] = STRONG
    split = RoleAssignment.from_codes(codes)
    n_weak, n_strong = len(split.weak_rows), len(split.strong_rows)
    if (n_weak == 0 and not fixed_weak) or n_strong == 0:
        raise ValueError(
            f"Too few rows to fit both models: {n_weak} sample(s) for the weak "
            f"model and {n_strong} sample(s) for the strong model (from "
            f"{int(labeled.sum())} labeled and {int((~labeled).sum())} "
            "unlabeled rows). Pass more rows, lower `eval_size`, or set `roles`."
        )
    return split


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _row_uniforms(index: NDArray[np.integer], seed: int) -> NDArray[np.float64]:
    """A uniform number in ``[0, 1)`` per global row index and ``seed``
    (splitmix64 hash): the same however the rows are divided into blocks."""
    with np.errstate(over="ignore"):
        z = np.asarray(index, dtype=np.uint64) + np.uint64(seed + 1) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def check_hash_sizes(eval_size: float | int, strong_size: float | int | str) -> None:
    """Refuse row counts: the hashed division takes fractions only."""
    for name, size in (("eval_size", eval_size), ("strong_size", strong_size)):
        if isinstance(size, Integral) and not (name == "eval_size" and size == 0):
            raise ValueError(
                f"{name}={size!r} is a count of rows, but roles derived from a "
                "hash of the row index (the Dask path) take a fraction: pass "
                f"{name} as a float in (0, 1)."
            )


def hash_role_codes(
    index: ArrayLike,
    labeled: ArrayLike,
    *,
    eval_size: float | int = 0.2,
    strong_size: float | str = 0.5,
    any_unlabeled: bool,
    seed: int,
) -> NDArray[np.int8]:
    """Roles from a hash of the global row index, independent of partitioning.

    Each row draws ``u_i`` uniform in ``[0, 1)`` (:func:`_row_uniforms`). A
    labeled row is ``"eval"`` when ``u_i < eval_size``; the other labeled
    rows follow :func:`assign_roles`'s rules, ``"strong"`` when ``(u_i -
    eval_size) / (1 - eval_size) < strong_size``. The counts are binomial,
    not exact; pass the codes' names as ``roles`` to an in-memory fit to
    reproduce a fit made block by block.

    Parameters
    ----------
    index : array-like of int of shape (n_rows,)
        Global indices of the rows (their positions in the whole data set).
    labeled : array-like of bool of shape (n_rows,)
        Which of these rows have a true label.
    eval_size : float, default=0.2
        Fraction of the labeled rows held out (0 for none).
    strong_size : float or "reuse", default=0.5
        Fraction of the other labeled rows given to the strong model when no
        row is unlabeled.
    any_unlabeled : bool
        Whether any row of the whole data set is unlabeled.
    seed : int
        The seed of the hash.

    Returns
    -------
    codes : ndarray of int8 of shape (n_rows,)

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg._roles import ROLES, hash_role_codes
    >>> codes = hash_role_codes(
    ...     np.arange(6), np.ones(6, dtype=bool), any_unlabeled=False, seed=0
    ... )
    >>> part = hash_role_codes(
    ...     np.arange(3, 6), np.ones(3, dtype=bool), any_unlabeled=False, seed=0
    ... )
    >>> bool(np.array_equal(codes[3:], part))
    True
    """
    classes = hash_row_classes(
        index, labeled, eval_size=eval_size, strong_size=strong_size, seed=seed
    )
    return roles_of_classes(any_unlabeled, strong_size)[classes]


#: The classes of rows of :func:`hash_row_classes`: held out (``"eval"``),
#: the labeled rows the strong model takes when every row is labeled (all
#: the others with ``strong_size="reuse"``), the other labeled rows, and the
#: unlabeled rows.
HELD, FIRST, SECOND, UNLABELED = range(4)


def hash_row_classes(
    index: ArrayLike,
    labeled: ArrayLike,
    *,
    eval_size: float | int = 0.2,
    strong_size: float | str = 0.5,
    seed: int,
) -> NDArray[np.int8]:
    """The class of each row, from which its role follows once all rows are read.

    A row's role (:func:`hash_role_codes`) depends on whether *any* row of
    the whole data set is unlabeled; its class does not, so a single pass
    over the rows can keep the classes apart and decide the roles at the end
    (:func:`roles_of_classes`).

    Parameters
    ----------
    index, labeled, eval_size, strong_size, seed
        As for :func:`hash_role_codes`.

    Returns
    -------
    classes : ndarray of int8 of shape (n_rows,)
        :data:`HELD`, :data:`FIRST`, :data:`SECOND` or :data:`UNLABELED`.
    """
    check_hash_sizes(eval_size, strong_size)
    labeled = np.asarray(labeled, dtype=bool)
    u = _row_uniforms(np.asarray(index), seed)
    eval_frac = float(eval_size)
    classes = np.full(labeled.shape[0], UNLABELED, dtype=np.int8)
    held = labeled & (u < eval_frac)
    rest = labeled & ~held
    classes[held] = HELD
    if strong_size == "reuse":
        classes[rest] = FIRST
    else:
        v = (u - eval_frac) / (1.0 - eval_frac)
        classes[rest] = np.where(v[rest] < float(strong_size), FIRST, SECOND)
    return classes


def roles_of_classes(any_unlabeled: bool, strong_size: float | str) -> NDArray[np.int8]:
    """The role code of each class of :func:`hash_row_classes` (index by class).

    Parameters
    ----------
    any_unlabeled : bool
        Whether any row of the whole data set is unlabeled: the labeled rows
        that are not held out then train the weak model, the unlabeled ones
        the strong model.
    strong_size : float or "reuse"
        ``"reuse"``: when every row is labeled, the rows not held out train
        both models.

    Returns
    -------
    roles : ndarray of int8 of shape (4,)
    """
    if any_unlabeled:
        first = second = WEAK
    else:
        first, second = (BOTH, BOTH) if strong_size == "reuse" else (STRONG, WEAK)
    return np.array([EVAL, first, second, STRONG], dtype=np.int8)
