"""Descriptions that many public docstrings share, written once.

In a docstring decorated with :func:`fill_doc` (or in a method of a decorated
class), a line holding only ``{name}`` is replaced by ``SHARED[name]``,
indented as that line was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

SHARED = {
    "sample_weight": """\
sample_weight : array-like of shape (n_samples,), default=None
    Row weights.""",
    "multioutput": """\
multioutput : {"raw_values", "uniform_average"} or array-like, \
default="uniform_average"
    How to combine tasks, as in :func:`sklearn.metrics.mean_squared_error`.""",
    "sample_weight_multioutput": """\
sample_weight : array-like of shape (n_samples,), default=None
    Row weights.
multioutput : {"raw_values", "uniform_average"} or array-like, \
default="uniform_average"
    How to combine tasks, as in :func:`sklearn.metrics.mean_squared_error`.""",
    "bootstrap": """\
n_resamples : int, default=9999
    Number of bootstrap resamples: at least ``2 / (1 - confidence_level)``
    (40 at 0.95), else each end of the interval would be the most extreme
    resample whatever the level.
method : {"BCa", "percentile", "basic"}, default="BCa"
    Interval type, as in :func:`scipy.stats.bootstrap`.
random_state : int, RandomState instance, Generator or None, default=None
    Seeds the resampling.""",
    "features_in": """\
n_features_in_ : int
    Number of features seen during ``fit``.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during ``fit``, when ``X`` has string column
    names.""",
    "fit_intercept": """\
fit_intercept : bool, default=True
    Whether to fit a free (unpenalised) intercept, by weighted centring.""",
    "linear_coef": """\
coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    Coefficients, shaped like
    :class:`~sklearn.linear_model.LinearRegression`'s.
intercept_ : float or ndarray of shape (n_targets,)
    Intercepts (0.0 when ``fit_intercept=False``).""",
    "smiles_in": """\
n_features_in_ : int
    Always 1 (one SMILES per row).
feature_names_in_ : ndarray of shape (1,)
    Column name, when ``X`` was a DataFrame with a string column name.""",
    "predict_values": """\
Parameters
----------
X : array-like of shape (n_samples, n_features)
    Inputs.

Returns
-------
y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    Predictions, shaped like the ``y`` of ``fit``.""",
    "predict_proba": """\
Parameters
----------
X : array-like of shape (n_samples, n_features)
    Inputs.

Returns
-------
proba : ndarray of shape (n_samples, n_classes)
    Columns in the order of ``classes_``.""",
    "fit_weights_roles": """\
sample_weight : array-like of shape (n_samples,), default=None
    Row weights, used by every head (which must accept them) and by the
    diagnostics. They do not reach the featurizers: a featurizer that
    learns (e.g. by pretraining) weighs its rows equally.
roles : array-like of str of shape (n_samples,), default=None
    Explicit role of each row, one of ``"weak"``, ``"strong"``, ``"both"``,
    ``"eval"``; overrides ``eval_size`` and ``strong_size``. Unlabeled rows
    may only be ``"strong"``.""",
    "w2s_random_state_verbose": """\
random_state : int, RandomState instance or None, default=None
    Controls the random division of rows between roles. Pass an int for
    reproducible output across calls. It does not seed the featurizers or
    heads: give each its own ``random_state`` (e.g. a torch featurizer's
    initialisation and shuffling).
verbose : int, default=0
    ``0``: silent. Otherwise ``fit`` prints each stage's time (weak
    featurizer, weak head, strong featurizer, strong head, diagnostics) in
    scikit-learn's ``Pipeline(verbose=True)`` format, and sets the
    ``verbose`` parameters of the featurizers (and of their inner
    estimators) that are at ``0``/``False`` to this value, so that their
    training reports too; a frozen featurizer is left as it is.""",
    "smiles_X": """\
X : array-like of str of shape (n_samples,) or (n_samples, 1)
    SMILES strings (or a one-column DataFrame).""",
}


def fill_doc(obj: T) -> T:
    """Replace the ``{name}`` lines of ``obj.__doc__`` by ``SHARED[name]``.

    A class's own methods are filled too.
    """
    return fill_doc_with()(obj)


def fill_doc_with(**fragments: str) -> Callable[[T], T]:
    """:func:`fill_doc` with more fragments, those of one module."""
    table = {**SHARED, **fragments}

    def decorate(obj: T) -> T:
        obj.__doc__ = _filled(obj.__doc__ or "", table)
        for member in vars(obj).values() if isinstance(obj, type) else ():
            doc = getattr(member, "__doc__", None) if callable(member) else None
            if doc and _filled(doc, table) != doc:
                member.__doc__ = _filled(doc, table)
        return obj

    return decorate


def _filled(doc: str, fragments: dict[str, str]) -> str:
    lines = []
    for line in doc.split("\n"):
        key = line.strip()
        if key.startswith("{") and key.endswith("}") and key[1:-1] in fragments:
            indent = line[: len(line) - len(line.lstrip())]
            fragment = _filled(fragments[key[1:-1]], fragments)  # may nest
            lines += [indent + part for part in fragment.split("\n")]
        else:
            lines.append(line)
    return "\n".join(lines)
