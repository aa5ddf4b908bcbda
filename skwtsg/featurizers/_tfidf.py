"""TF-IDF then an exact truncated SVD: the weak text representations.

:class:`TfidfSVDFeaturizer` is latent semantic analysis with ``n_components``
dimensions, a family of weak representations ``h_w`` of the essay experiment
whose strength grows with ``n_components``; the SVD is exact
(:func:`_svd_directions`), so a narrower member of the family is the
truncation of a wider one (:meth:`TfidfSVDFeaturizer.truncated`).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context

from .._utils._validation import check_string_column

__all__ = ["TfidfSVDFeaturizer"]


class TfidfSVDFeaturizer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """TF-IDF then truncated SVD: a weak text representation of width ``n_components``.

    Latent semantic analysis: word and word-pair counts, TF-IDF weighted,
    projected on their ``n_components`` leading singular directions. Growing
    ``n_components`` (e.g. 8, 16, ..., 256) gives a family of increasingly
    strong weak representations ``h_w`` for the essay-scoring experiment.
    Learnt from the texts it is fitted on, never from ``y``.

    The SVD is exact and deterministic (one eigendecomposition of a Gram
    matrix, see Notes), so the featurizer of width ``k`` is exactly the
    first ``k`` columns of any wider one fitted on the same texts:
    :meth:`truncated` gives every narrower member of the family from one
    fit.

    Parameters
    ----------
    n_components : int, default=64
        Width of the representation. At most the number of training texts
        and of terms kept in the vocabulary.
    ngram_range : tuple of (int, int), default=(1, 2)
        Word n-grams counted, as in
        :class:`~sklearn.feature_extraction.text.TfidfVectorizer`.
    min_df : int or float, default=2
        Ignore terms found in fewer documents (int) or a smaller fraction of
        documents (float).
    max_df : int or float, default=1.0
        Ignore terms found in more documents than this.
    max_features : int or None, default=None
        Keep only the most frequent terms.
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)`` term frequencies.
    lowercase : bool, default=True
        Lowercase the texts before tokenizing.
    random_state : int, RandomState instance or None, default=None
        Unused: the SVD is exact. Accepted so that every featurizer of the
        library takes ``random_state``.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted TF-IDF step.
    components_ : ndarray of shape (n_components, n_terms)
        The leading right singular vectors of the training TF-IDF matrix,
        by decreasing singular value, each with its largest entry (in
        absolute value) positive.
    singular_values_ : ndarray of shape (n_components,)
        The matching singular values, decreasing.
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Variance of each output column on the training texts, as a fraction
        of the total variance of their TF-IDF matrix (as in
        :class:`~sklearn.decomposition.TruncatedSVD`).
    n_features_in_ : int
        Always 1: one column of texts.

    See Also
    --------
    SentenceTransformerFeaturizer : The strong text representation.

    Notes
    -----
    Up to version 0.1 the projection was scikit-learn's randomized
    :class:`~sklearn.decomposition.TruncatedSVD`, whose width-``k`` result
    is not the truncation of a wider one (and is an approximation); the
    exact SVD is computed from the eigendecomposition of the Gram matrix of
    the smaller side of the TF-IDF matrix, about as fast at these sizes.

    Examples
    --------
    >>> from skwtsg.featurizers import TfidfSVDFeaturizer
    >>> texts = ["the cat sat", "the dog sat", "a cat and a dog", "the cat ran",
    ...          "a dog ran", "the dog and the cat sat"]
    >>> lsa = TfidfSVDFeaturizer(n_components=3, min_df=1).fit(texts)
    >>> lsa.transform(texts).shape
    (6, 3)
    >>> import numpy as np
    >>> narrow = lsa.truncated(2)  # the same as TfidfSVDFeaturizer(2) fitted again
    >>> bool(np.array_equal(narrow.transform(texts), lsa.transform(texts)[:, :2]))
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "ngram_range": [tuple],
        "min_df": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="both"),
        ],
        "max_df": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="both"),
        ],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "sublinear_tf": ["boolean"],
        "lowercase": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components: int = 64,
        *,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: float = 2,
        max_df: float = 1.0,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        lowercase: bool = True,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.n_components = n_components
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.lowercase = lowercase
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> TfidfSVDFeaturizer:
        """Learn the vocabulary, the IDF weights and the projection.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Training texts.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted featurizer.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: ArrayLike, y: None = None) -> np.ndarray:
        """Fit, then return the representation of the training texts.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Training texts.
        y : None
            Ignored.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Their representation.
        """
        T = self._fit(X)
        return np.asarray(T @ self.components_.T)

    def _fit(self, X):
        texts = check_string_column(X, what="text").tolist()
        k = self.n_components
        self.vectorizer_ = TfidfVectorizer(
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            sublinear_tf=self.sublinear_tf,
            lowercase=self.lowercase,
            dtype=np.float64,
        )
        T = self.vectorizer_.fit_transform(texts)
        self._tfidf_memo = _TfidfMemo()
        limit = min(T.shape)
        if k > limit:
            raise ValueError(
                f"n_components={k} is larger than min(n_texts, n_terms)="
                f"{limit} ({T.shape[0]} texts, {T.shape[1]} terms kept with "
                f"min_df={self.min_df!r}): use fewer components or more texts."
            )
        components, s, ratio = _svd_directions(T, k)
        self.components_ = components
        self.singular_values_ = s
        self.explained_variance_ratio_ = ratio
        self.n_features_in_ = 1
        return T

    def truncated(self, n_components: int) -> TfidfSVDFeaturizer:
        """The fitted featurizer of a smaller width, sharing this one's fit.

        Exactly what ``TfidfSVDFeaturizer(n_components, ...)`` (the same
        other parameters) fitted on the same texts would be: the TF-IDF step
        is shared and the projection keeps the first ``n_components``
        directions. Wrap it in :class:`~sklearn.frozen.FrozenEstimator` to
        hand it, already fitted, to an estimator that fits its featurizers.

        Parameters
        ----------
        n_components : int
            Width, at most :attr:`n_components`.

        Returns
        -------
        featurizer : TfidfSVDFeaturizer
            A new fitted featurizer (its ``vectorizer_`` is this one's).

        Notes
        -----
        The members of a family also share the TF-IDF matrices of the last
        few texts they transformed (keyed by the texts' sha256), so
        transforming the same texts with every width tokenises them once.
        """
        check_is_fitted(self)
        k = self.components_.shape[0]
        if (
            not isinstance(n_components, Integral)
            or isinstance(n_components, bool)
            or not 1 <= n_components <= k
        ):
            raise ValueError(
                f"n_components must be an int in [1, {k}] (this featurizer's "
                f"width); got n_components={n_components!r}."
            )
        out = clone(self).set_params(n_components=int(n_components))
        out.vectorizer_ = self.vectorizer_
        out._tfidf_memo = getattr(self, "_tfidf_memo", None)
        out.components_ = self.components_[:n_components]
        out.singular_values_ = self.singular_values_[:n_components]
        out.explained_variance_ratio_ = self.explained_variance_ratio_[:n_components]
        out.n_features_in_ = self.n_features_in_
        return out

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Project texts on the learnt directions.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Texts.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Their representation.
        """
        check_is_fitted(self)
        texts = check_string_column(X, what="text").tolist()
        memo = getattr(self, "_tfidf_memo", None)
        if memo is None:
            T = self.vectorizer_.transform(texts)
        else:
            T = memo.transform(self.vectorizer_, texts)
        return np.asarray(T @ self.components_.T)

    @property
    def _n_features_out(self):
        return self.components_.shape[0]


class _TfidfMemo:
    """The TF-IDF matrices of the last few texts a fitted family transformed.

    Shared by a :class:`TfidfSVDFeaturizer` and its :meth:`truncated`
    members (one fitted vectorizer): the texts are keyed by their contents
    (:func:`joblib.hash`, as :class:`~skwtsg._utils._cache.FrozenTransformMemo`),
    so equal texts are tokenised once whatever their array.
    """

    def __init__(self, size: int = 4):
        self.size = size
        self._entries: dict = {}

    def __getstate__(self):
        # A pickle carries the (shared) memo, not the matrices it holds.
        return {"size": self.size, "_entries": {}}

    def transform(self, vectorizer, texts):
        from joblib import hash as joblib_hash

        # the content key of FrozenTransformMemo (skwtsg/_utils/_cache.py)
        key = joblib_hash(list(texts))
        T = self._entries.pop(key, None)
        if T is None:
            T = vectorizer.transform(texts)
        self._entries[key] = T  # the most recent last
        while len(self._entries) > self.size:
            del self._entries[next(iter(self._entries))]
        return T


def _svd_directions(T, n_components):
    """The leading right singular directions of a matrix, exact and deterministic.

    One full eigendecomposition of the Gram matrix of the smaller side of
    ``T`` (``T Tᵀ`` or ``Tᵀ T``), so the first ``k`` directions do not
    depend on how many are kept: the result for ``k`` is the first ``k``
    rows of the result for any larger width. Signs follow
    :func:`sklearn.utils.extmath.svd_flip` with ``u_based_decision=False``
    (the largest entry of each direction, in absolute value, is positive).

    Parameters
    ----------
    T : sparse matrix or ndarray of shape (n_rows, n_columns)
        E.g. a TF-IDF matrix, texts by terms.
    n_components : int
        Directions kept, at most ``min(T.shape)``.

    Returns
    -------
    components : ndarray of shape (n_components, n_columns)
        Right singular vectors, by decreasing singular value.
    singular_values : ndarray of shape (n_components,)
    explained_variance_ratio : ndarray of shape (n_components,)
        Variance of ``T @ components.T``'s columns over the total variance of
        ``T``'s columns.

    Raises
    ------
    ValueError
        When ``T`` has fewer than ``n_components`` singular values clearly
        above zero (a direction would be arbitrary).

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.featurizers._tfidf import _svd_directions
    >>> T = np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    >>> V, s, _ = _svd_directions(T, 2)
    >>> V.tolist(), s.round(6).tolist()
    ([[1.0, 0.0], [0.0, 1.0]], [3.0, 1.0])
    """
    from scipy import linalg, sparse

    n_rows, n_columns = T.shape
    is_sparse = sparse.issparse(T)
    by_rows = n_rows <= n_columns
    G = T @ T.T if by_rows else T.T @ T
    G = G.toarray() if sparse.issparse(G) else np.asarray(G)
    eigvals, eigvecs = linalg.eigh(G, driver="evd", check_finite=False)
    order = np.arange(len(eigvals) - 1, len(eigvals) - 1 - n_components, -1)
    lam = np.maximum(eigvals[order], 0.0)
    s = np.sqrt(lam)
    top = float(np.sqrt(max(eigvals[-1], 0.0)))
    # The Gram matrix holds s**2 to about eps * s_max**2: below that, s is noise.
    tol = np.sqrt(max(G.shape) * np.finfo(float).eps) * top
    if not top > 0 or s[-1] <= tol:
        rank = int(np.sum(s > tol)) if top > 0 else 0
        raise ValueError(
            f"n_components={n_components} is more than the {rank} directions "
            f"of the {n_rows} x {n_columns} matrix with a non-zero singular value "
            "(e.g. repeated texts): use fewer components."
        )
    if by_rows:
        U = eigvecs[:, order]
        components = np.asarray(T.T @ U).T / s[:, None]
    else:
        components = np.ascontiguousarray(eigvecs[:, order].T)
    biggest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(n_components), biggest])
    components *= signs[:, None]
    Z = np.asarray(T @ components.T)
    if is_sparse:
        total = T.multiply(T).mean(axis=0) - np.square(T.mean(axis=0))
        total = float(np.sum(total))
    else:
        total = float(np.var(T, axis=0).sum())
    ratio = np.var(Z, axis=0) / total if total > 0 else np.zeros(n_components)
    return components, s, ratio
