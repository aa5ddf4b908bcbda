"""TF-IDF then an exact truncated SVD: the weak text representations."""

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
from ._molecules import _string_tags

__all__ = ["TfidfSVDFeaturizer"]


class TfidfSVDFeaturizer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """TF-IDF then truncated SVD: a weak text representation of width ``n_components``.

    Latent semantic analysis: word and word-pair counts, TF-IDF weighted,
    projected on their leading singular directions; growing ``n_components``
    gives a family of increasingly strong weak representations (learnt from
    the texts, never from ``y``). The SVD is exact and deterministic (an
    eigendecomposition of the smaller Gram matrix), so a featurizer of
    width ``k`` is the first ``k`` columns of any wider one fitted on the
    same texts (:meth:`truncated`).

    Parameters
    ----------
    n_components : int, default=64
        Width of the representation, at most the number of training texts
        and of terms kept.
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
        Unused: the SVD is exact.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted TF-IDF step.
    components_ : ndarray of shape (n_components, n_terms)
        The leading right singular vectors of the training TF-IDF matrix,
        each with its largest entry (in absolute value) positive.
    singular_values_ : ndarray of shape (n_components,)
        The matching singular values, decreasing.
    explained_variance_ratio_ : ndarray of shape (n_components,)
        As in :class:`~sklearn.decomposition.TruncatedSVD`.
    n_features_in_ : int
        Always 1: one column of texts.

    See Also
    --------
    SentenceTransformerFeaturizer : The strong text representation.

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
        return _string_tags(super().__sklearn_tags__(), two_d=True)

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
        self : TfidfSVDFeaturizer
            Fitted featurizer.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: ArrayLike, y: None = None) -> np.ndarray:
        """Fit on the texts ``X`` (``y`` ignored), then return their representation.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Training texts, as for :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
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

        Exactly ``TfidfSVDFeaturizer(n_components, ...)`` fitted on the same
        texts: the TF-IDF step (and the TF-IDF matrices of the last texts
        transformed) is shared. Wrap it in
        :class:`~sklearn.frozen.FrozenEstimator` to pass it on already fitted.

        Parameters
        ----------
        n_components : int
            Width, at most :attr:`n_components`.

        Returns
        -------
        featurizer : TfidfSVDFeaturizer
            A new fitted featurizer (its ``vectorizer_`` is this one's).
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
            Texts to project.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The projections of their TF-IDF vectors.
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
    """The TF-IDF matrices of the last few texts a fitted family transformed,
    keyed by the texts' contents (:func:`joblib.hash`)."""

    def __init__(self, size: int = 4):
        self.size = size
        self._entries: dict = {}

    def __getstate__(self):
        # A pickle carries the (shared) memo, not the matrices it holds.
        return {"size": self.size, "_entries": {}}

    def transform(self, vectorizer, texts):
        from joblib import hash as joblib_hash

        key = joblib_hash(list(texts))
        T = self._entries.pop(key, None)
        if T is None:
            T = vectorizer.transform(texts)
        self._entries[key] = T  # the most recent last
        while len(self._entries) > self.size:
            del self._entries[next(iter(self._entries))]
        return T


def _svd_directions(T, n_components):
    """``(components, singular_values, explained_variance_ratio)`` of ``T``.

    From one eigendecomposition of the smaller Gram matrix, so the first
    ``k`` directions do not depend on how many are kept; signs as
    :func:`sklearn.utils.extmath.svd_flip` (``u_based_decision=False``). A
    ValueError when fewer than ``n_components`` singular values are clearly
    above zero.

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
