"""The weak-to-strong meta-estimator for classification."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._backends._common import (
    _check_finite_output,
    _fit_head,
    _FitData,
    _num_rows,
    _warn_if_copied_kl,
)
from ._engine import _BaseWeakToStrong
from ._utils._docstrings import fill_doc
from ._utils._validation import check_partially_labeled_classes
from .heads import SoftmaxHead
from .metrics._kl import _check_proba, _error_rows, _kl_rows, _label_codes

__all__ = ["WeakToStrongClassifier"]

#: The penalty of the default heads fitted on true labels (weak and ceiling):
#: hard labels are often separable, where the exact fit does not exist.
_DEFAULT_ALPHA = 1e-3


class _ClassificationTask:
    """Weak labels are the weak model's probabilities; losses are KL (or log-loss)."""

    ndim = 1

    def __init__(
        self,
        estimator: WeakToStrongClassifier,
        data: _FitData,
        Y: np.ndarray,
        target: np.ndarray,
    ) -> None:
        self.estimator = estimator
        self.data = data
        self.Y = Y  # class probabilities (one-hot for labels)
        self.target = target  # what a head fitted on labels sees
        self.weak_columns: np.ndarray | None = None
        self.smoothing = 0.0
        self.ceiling: Any = None
        self.ceiling_columns: np.ndarray | None = None

    @property
    def loss_names(self) -> tuple[str, ...]:
        return (
            "weak_error",
            "strong_error",
            "misfit",
            "ceiling_error",
            "weak_correct",
            "strong_correct",
            "ceiling_correct",
        )

    def weak_target(self, rows: np.ndarray) -> np.ndarray:
        return self.target[rows]

    def fit_weak(self, head: Any, Z: Any, rows: np.ndarray) -> Any:
        fitted, self.weak_columns = self._fit_on_truth(head, Z, rows, "weak_head")
        choice = self.estimator.weak_smoothing
        if choice == "auto":
            positive = not len(rows) or bool(
                (_proba(fitted, Z, self.weak_columns) > 0).all()
            )
            self.smoothing = 0.0 if positive else _AUTO_SMOOTHING
        else:
            self.smoothing = float(choice)
        return fitted

    def labels(self, weak_head: Any, Z: Any) -> np.ndarray:
        return _smooth(_proba(weak_head, Z, self.weak_columns), self.smoothing)

    def output(self, head: Any, Z: Any) -> np.ndarray:
        columns = self.ceiling_columns if head is self.ceiling else None
        return _proba(head, Z, columns)

    def fit_ceiling(self, Z: Any, rows: np.ndarray) -> Any:
        choice = self.estimator.ceiling_head
        if choice != "none" and self.data.labeled[rows].all():
            ceiling = SoftmaxHead(alpha=_DEFAULT_ALPHA) if choice is None else choice
            self.ceiling, self.ceiling_columns = self._fit_on_truth(
                ceiling, Z, rows, "ceiling_head"
            )
        return self.ceiling

    def _fit_on_truth(self, head, Z, rows, name):
        """Fit a head on true labels; return it and its column map.

        A :class:`SoftmaxHead` is fitted on the class probabilities (one-hot
        for labels), so it has a column for every class even when some class
        has no row here; another head is fitted on the labels and must then
        see every class.
        """
        weights = self.data.weights(rows)
        if isinstance(head, SoftmaxHead):
            return _fit_head(head, Z, self.Y[rows], weights, name), None
        fitted = _fit_head(head, Z, self.target[rows], weights, name)
        return fitted, self.estimator._column_map(fitted, name, len(rows))

    def losses(self, rows, weak, strong, ceiling) -> dict[str, Any]:
        classes = self.estimator.classes_
        y = self.data.y[rows]
        labeled = self.data.labeled[rows]
        hard = not self.estimator._proba_truth

        def per_row(P: np.ndarray | None, name: str) -> tuple[Any, Any]:
            if P is None:
                return None, None
            P = _check_proba(P, name)
            error, correct = np.zeros(len(rows)), np.zeros(len(rows))
            if labeled.any():  # the losses of unlabeled rows are not read
                try:
                    error[labeled] = _error_rows(y[labeled], P[labeled], name, classes)
                except ValueError as exc:
                    if name != "p_weak":
                        raise
                    raise ValueError(
                        f"{exc} (counting the labeled rows measured there). The "
                        "weak model rules out a true class: set weak_smoothing "
                        '("auto" or a weight such as 1e-3) to mix its '
                        "probabilities with the uniform distribution."
                    ) from exc
                if hard:
                    codes = _label_codes(y[labeled], P.shape[1], classes)
                    correct[labeled] = P[labeled].argmax(axis=1) == codes
            return error, (correct if hard else None)

        weak_error, weak_correct = per_row(weak, "p_weak")
        strong_error, strong_correct = per_row(strong, "p_strong")
        ceiling_error, ceiling_correct = per_row(ceiling, "p_ceiling")
        misfit = None
        if strong is not None:
            misfit = _kl_rows(weak, strong, ("p_weak", "p_strong"))
        return {
            "weak_error": weak_error,
            "strong_error": strong_error,
            "misfit": misfit,
            "ceiling_error": ceiling_error,
            "weak_correct": weak_correct,
            "strong_correct": strong_correct,
            "ceiling_correct": ceiling_correct,
        }


#: The weight of the uniform distribution in a weak supervisor that rules out
#: classes (``weak_smoothing="auto"``): a log-loss of at most
#: ``log(n_classes / 1e-3)``, about 7 nats for 2 classes.
_AUTO_SMOOTHING = 1e-3


def _smooth(P: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) P + weight / n_classes``, row by row."""
    if not weight:
        return P
    return (1.0 - weight) * P + weight / P.shape[1]


def _proba(head: Any, Z: Any, columns: np.ndarray | None = None) -> np.ndarray:
    """A head's probabilities in ``classes_`` order, as float64 rows summing
    to 1 (a float32 head's rows sum to 1 only to ~1e-7)."""
    P = np.asarray(head.predict_proba(Z), dtype=np.float64)
    _check_finite_output(P, head, "head", "gave probabilities with")
    P = P if columns is None else P[:, columns]
    return P / P.sum(axis=1, keepdims=True)


@fill_doc
class WeakToStrongClassifier(ClassifierMixin, _BaseWeakToStrong):
    """Train a strong classifier on a weak classifier's probabilities.

    A weak model ``f_w∘h_w`` (``weak_featurizer`` then ``weak_head``) is
    fitted on true labels. Its class probabilities ``p_w`` (soft labels) on
    the strong model's rows are the only supervision of the strong head
    ``p_sw = softmax(W h_s + b)`` (``head``), fitted by cross-entropy on the
    strong representation ``h_s`` (``strong_featurizer``). When the head is
    the exact softmax fit and the truth's probabilities ``p*`` are
    realizable by it, on the head's training sample (see
    :ref:`theory_kl`)::

        KL(p_w ‖ p*) = KL(p_w ‖ p_sw) + KL(p_sw ‖ p*),

    i.e. gain = misfit with errors ``E[KL(p_model ‖ p*)]``, and ``>=`` for a
    head over a convex set of parameters.

    Read more in the :ref:`User Guide <theory_kl>`.

    Parameters
    ----------
    weak_featurizer : transformer or "passthrough", default="passthrough"
        The weak representation ``h_w``, cloned and fitted on the weak
        model's rows with their true labels.
    strong_featurizer : transformer or "passthrough", default="passthrough"
        The strong representation ``h_s``, cloned and fitted on the strong
        model's rows with the weak model's probabilities as ``y`` (wrap a
        fitted one in :class:`sklearn.frozen.FrozenEstimator` to keep it
        fixed).
    head : classifier, default=None
        The strong head; it is fitted on class probabilities of shape
        (n_samples, n_classes), so it must accept soft labels. ``None`` means
        :class:`skwtsg.heads.SoftmaxHead` (exact, no penalty), for which the
        KL identity holds. A head not known to be convex warns.
    weak_head : classifier, default=None
        The weak model's head ``f_w``, fitted on true labels (hard labels, or
        probabilities when ``y`` holds them); any classifier with
        ``predict_proba``, e.g. :class:`sklearn.linear_model.LogisticRegression`
        on hard labels. ``None`` means ``SoftmaxHead(alpha=1e-3)``: a small
        penalty, since the exact fit does not exist on separable hard labels.
    ceiling_head : classifier or "none", default=None
        The strong ceiling, the denominator of the performance gap recovered
        (Burns et al. 2023): a head fitted on the strong representation of
        the strong rows with their *true* labels, when they have them.
        ``None`` means ``SoftmaxHead(alpha=1e-3)``; ``"none"`` fits no
        ceiling (``ceiling_error_``, ``ceiling_accuracy_`` and the PGRs are
        NaN).
    weak_smoothing : float in [0, 1) or "auto", default="auto"
        The supervisor is the weak model's probabilities mixed with the
        uniform distribution, ``(1 - weak_smoothing) p_w + weak_smoothing /
        n_classes``: a tree or a nearest-neighbour labeler gives probability 0
        to classes, and a KL error or log-loss against a label it rules out
        is infinite. The mixture is the supervisor used everywhere (its labels
        train the strong head, its errors are the weak errors, it is what
        :meth:`predict_weak_proba` returns), so the KL identity holds exactly
        for it. ``"auto"``: 0 when the weak model gives every class a positive
        probability on its own training rows (e.g. a softmax head), else
        ``1e-3``. The value used is ``weak_smoothing_``.
    eval_size : float or int, default=0.2
        Labeled rows held out from every model to measure the diagnostics,
        as in :class:`WeakToStrongRegressor`.
    strong_size : float, int or "reuse", default=0.5
        How labeled rows not held out are divided between the strong and the
        weak model when every row is labeled, as in
        :class:`WeakToStrongRegressor`.
    {w2s_random_state_verbose}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (sorted), or ``arange(n_classes)`` when ``y`` holds
        probabilities; the column order of every ``predict_*proba``.
    weak_featurizer_, strong_featurizer_ : transformer
        Fitted clones of the featurizers.
    weak_head_ : classifier
        Fitted weak head.
    head_ : classifier
        Fitted strong head (fitted on probabilities: its own ``classes_`` are
        column indices).
    ceiling_head_ : classifier or None
        Fitted ceiling, or ``None`` (``ceiling_head="none"`` or unlabeled
        strong rows).
    roles_ : ndarray of str of shape (n_samples,)
        The role each training row played (``"weak"``, ``"strong"``,
        ``"both"``, ``"eval"``).
    weak_error_ : float
        ``E[KL(p_w ‖ p*)]`` when ``y`` holds probabilities; otherwise the
        weak model's log-loss ``E[-log p_w(y)]``.
    strong_error_ : float
        The same for the strong model; NaN when there are no ``"eval"`` rows
        and the strong rows are unlabeled.
    misfit_ : float
        ``E[KL(p_w ‖ p_sw)]``; needs no true label.
    gain_ : float
        ``weak_error_ - strong_error_``.
    bound_ : float
        ``weak_error_ - misfit_``: exactly ``strong_error_`` on the strong
        head's training sample in the realizable KL setting; with hard labels
        an empirical estimate.
    ceiling_error_ : float
        The same error for the ceiling (``ceiling_head_``, see
        :meth:`predict_ceiling_proba`), on the rows ``strong_error_`` is
        measured on (the ``"eval"`` rows when there are any, else the
        ceiling's own training rows); NaN without a ceiling.
    pgr_ : float
        Performance gap recovered in that error, ``(weak_error_ -
        strong_error_) / (weak_error_ - ceiling_error_)``, as
        :func:`skwtsg.metrics.weak_to_strong_classification_report`'s
        ``"pgr"`` on the same rows; NaN without a ceiling or with no gap
        (the ceiling's error equal to the weak model's).
    weak_accuracy_, strong_accuracy_, ceiling_accuracy_ : float
        Accuracies (most probable class) with hard labels; NaN with
        probabilities (and for the ceiling when there is none).
    weak_smoothing_ : float
        The weight of the uniform distribution in the supervisor (see
        ``weak_smoothing``).
    accuracy_pgr_ : float
        Performance gap recovered in accuracy, ``(strong - weak) / (ceiling
        - weak)``; NaN without a ceiling, with probabilities, or with no gap
        (as ``pgr_``).
    diagnostic_rows_ : dict
        For each diagnostic, the role of the rows it was measured on
        (``"eval"``, ``"strong"``, ``"both"``, ``"weak"``, ``"weak+strong"``),
        as in :class:`WeakToStrongRegressor`.
    diagnostics_ : Diagnostics
        The record every diagnostic is computed from: per row set (weak,
        strong, eval), the row counts, weight sums and weighted sums of the
        per-row losses; see :ref:`contributing` to add a diagnostic.
    train_report_ : dict
        The diagnostics on the strong head's own training rows, where the
        KL identity is exact.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    WeakToStrongRegressor : The same for regression (squared loss).
    skwtsg.heads.SoftmaxHead : The default exact head.
    skwtsg.kl_bound_scorer : Choose a weak supervisor by the bound.

    Notes
    -----
    Unlabeled rows. With class labels ``y`` of shape (n_samples,), a missing
    value marks an unlabeled row: ``NaN`` in a float array, ``None``,
    ``NaN`` or ``pandas.NA`` in an object array (anything
    :func:`pandas.isna` calls missing); string labels therefore go in an
    object array with ``None`` for unlabeled rows. With probabilities of
    shape (n_samples, n_classes) an unlabeled row is all NaN. Unlabeled rows
    are the strong model's rows, as in :class:`WeakToStrongRegressor`; pass
    ``roles`` to :meth:`fit` to choose the roles yourself.

    The classes are the labels seen on labeled rows. A
    :class:`~skwtsg.heads.SoftmaxHead` fitted on true labels (the default
    weak head and ceiling) is fitted on their one-hot encoding, so it keeps a
    column for every class even if its rows miss one; another weak head (e.g.
    ``LogisticRegression``) must see every class among its rows.

    References
    ----------
    .. [1] A. Mulgund and C. Pabbaraju, "Relating Misfit to Gain in
       Weak-to-Strong Generalization Beyond the Squared Loss",
       arXiv:2501.19105, 2025.
    .. [2] C. Burns et al., "Weak-to-Strong Generalization: Eliciting Strong
       Capabilities With Weak Supervision", arXiv:2312.09390, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skwtsg import WeakToStrongClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(2000, 5))
    >>> P = np.exp(X @ rng.normal(size=(5, 3)))
    >>> P /= P.sum(axis=1, keepdims=True)  # the truth: a softmax of X
    >>> y = np.array([rng.choice(3, p=p) for p in P])
    >>> weak = FunctionTransformer(np.sign)  # the weak model sees signs only
    >>> est = WeakToStrongClassifier(weak, random_state=0).fit(X, y)
    >>> est.predict(X[:4]).shape
    (4,)
    >>> bool(est.strong_accuracy_ > est.weak_accuracy_)
    True

    The ceiling, the strong head fitted on the strong rows' true labels, is
    the denominator of the performance gap recovered, in the log-loss
    (``pgr_``) as in accuracy (``accuracy_pgr_``):

    >>> bool(est.weak_error_ > est.strong_error_ > est.ceiling_error_)
    True
    >>> gap = est.weak_error_ - est.ceiling_error_
    >>> bool(est.pgr_ == (est.weak_error_ - est.strong_error_) / gap)
    True

    With the truth's probabilities as ``y``, gain = misfit on the strong
    head's training rows:

    >>> est = WeakToStrongClassifier(weak, random_state=0).fit(X, P)
    >>> r = est.train_report_
    >>> bool(abs(r["gain"] - r["misfit"]) <= 1e-8 * r["weak_error"])
    True
    """

    _parameter_constraints: dict = {
        **_BaseWeakToStrong._parameter_constraints,
        "head": [HasMethods(["fit", "predict_proba"]), None],
        "weak_head": [HasMethods(["fit", "predict_proba"]), None],
        "ceiling_head": [
            HasMethods(["fit", "predict_proba"]),
            StrOptions({"none"}),
            None,
        ],
        "weak_smoothing": [
            Interval(Real, 0, 1, closed="left"),
            StrOptions({"auto"}),
        ],
    }

    def __init__(
        self,
        weak_featurizer: Any = "passthrough",
        strong_featurizer: Any = "passthrough",
        *,
        head: Any = None,
        weak_head: Any = None,
        ceiling_head: Any = None,
        weak_smoothing: float | str = "auto",
        eval_size: float | int = 0.2,
        strong_size: float | int | str = 0.5,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.weak_featurizer = weak_featurizer
        self.strong_featurizer = strong_featurizer
        self.head = head
        self.weak_head = weak_head
        self.ceiling_head = ceiling_head
        self.weak_smoothing = weak_smoothing
        self.eval_size = eval_size
        self.strong_size = strong_size
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------- hooks
    def _heads(self) -> tuple[Any, Any]:
        weak_head = (
            SoftmaxHead(alpha=_DEFAULT_ALPHA)
            if self.weak_head is None
            else self.weak_head
        )
        return weak_head, (SoftmaxHead() if self.head is None else self.head)

    def _check_targets(self, y, n_samples, sample_weight):
        y, labeled, self.classes_, Y = check_partially_labeled_classes(
            y, n_samples=n_samples
        )
        self._proba_truth = y.ndim == 2
        if sample_weight is not None:
            weighted = (sample_weight[labeled] @ Y[labeled]) > 0
            if not self._proba_truth and weighted.sum() < 2:
                raise ValueError(
                    f"sample_weight leaves {int(weighted.sum())} class with "
                    "positive weight on the labeled rows; a classifier needs at "
                    "least 2 classes."
                )
        target = y if self._proba_truth else self.classes_[Y.argmax(axis=1)]
        self._fit_targets = (Y, target)  # for _task, next
        return y, labeled

    def _task(self, data: _FitData) -> _ClassificationTask:
        Y, target = self.__dict__.pop("_fit_targets")
        return _ClassificationTask(self, data, Y, target)

    def _after_fit(self, result, task) -> None:
        self._weak_columns = task.weak_columns
        self.weak_smoothing_ = float(task.smoothing)
        self.ceiling_head_ = task.ceiling
        self._ceiling_columns = task.ceiling_columns
        _warn_if_copied_kl(self.train_report_["misfit"])

    def _column_map(self, head: Any, name: str, n_rows: int) -> np.ndarray | None:
        """Index of each of ``classes_`` among the head's ``classes_`` columns."""
        classes = np.asarray(head.classes_)
        expected = np.arange(len(self.classes_)) if self._proba_truth else self.classes_
        if classes.shape == expected.shape and np.array_equal(classes, expected):
            return None
        pos = {c: i for i, c in enumerate(classes.tolist())}
        missing = [c for c in expected.tolist() if c not in pos]
        if missing or len(pos) != len(expected):
            raise ValueError(
                f"`{name}` ({type(head).__name__}) was fitted on {n_rows} rows "
                f"with classes {classes.tolist()}, but the classes are "
                f"{expected.tolist()}: classes {missing} have no row there, so it "
                "gives them no probability. Use a SoftmaxHead (fitted on class "
                "probabilities, it keeps every class), more labeled rows, or "
                "`roles` with every class among those rows."
            )
        return np.array([pos[c] for c in expected.tolist()])

    # -------------------------------------------------------------- predict
    def _predict_weak_proba(self, X_rows):
        P = _proba(self.weak_head_, self._features("weak", X_rows), self._weak_columns)
        return _smooth(P, self.weak_smoothing_)

    def _predict_strong_proba(self, X_rows):
        return _proba(self.head_, self._features("strong", X_rows))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities of the weakly-supervised strong model.

        {predict_proba}
        """
        return self._predict_strong_proba(self._check_predict_input(X))

    def predict_ceiling_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities of the ceiling (the strong head on true labels).

        {predict_proba}
        """
        X_rows = self._check_predict_input(X)
        if self.ceiling_head_ is None:
            raise ValueError(
                "This WeakToStrongClassifier has no ceiling: ceiling_head='none', "
                "or its strong rows were unlabeled."
            )
        Z = self._features("strong", X_rows)
        return _proba(self.ceiling_head_, Z, self._ceiling_columns)

    def predict_weak_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities of the weak supervisor.

        {predict_proba}
        """
        return self._predict_weak_proba(self._check_predict_input(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The strong model's most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def predict_weak(self, X: ArrayLike) -> np.ndarray:
        """The weak model's most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_weak_proba(X), axis=1)]

    def score(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        """Accuracy of the strong model on the labeled rows of ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels (missing values are skipped), or probabilities
            (their most probable class is the label; all-NaN rows skipped).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            Weighted fraction of labeled rows whose predicted class is the
            label.
        """
        check_is_fitted(self)
        n = _num_rows(X)
        y, labeled, classes, Y = check_partially_labeled_classes(
            y, n_samples=n, require_labeled="score"
        )
        if y.ndim == 2:
            if Y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"y holds probabilities of {Y.shape[1]} classes, but the "
                    f"estimator was fitted on {len(self.classes_)}."
                )
            truth = Y.argmax(axis=1)
        else:
            truth = classes[Y.argmax(axis=1)]
        weights: np.ndarray | None = None
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, Y, ensure_non_negative=True)
            weights = weights[labeled]
            if not weights.any():
                raise ValueError("`sample_weight` is zero on every labeled row of y.")
        pred = self.predict(X)
        if y.ndim == 2:
            pred = np.searchsorted(self.classes_, pred)
        return float(np.average(pred[labeled] == truth[labeled], weights=weights))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        # The strong model learns from a weak supervisor only: with a poor
        # weak representation its score is poor by design.
        tags.classifier_tags.poor_score = not (
            isinstance(self.weak_featurizer, str)
            and self.weak_featurizer == "passthrough"
        )
        return tags
