"""skwtsg's estimator tags: what a strong head declares about its fit.

One field, ``head_tags``, added to a subclass of scikit-learn's ``Tags`` (the
extension scikit-learn documents), says whether Theorem 1 applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from sklearn.utils import Tags, get_tags

__all__ = ["HeadTags", "SkwtsgTags", "get_head_tags"]


@dataclass(slots=True)
class HeadTags:
    """What a strong head declares about its fit: skwtsg's own tags.

    Parameters
    ----------
    convex : bool or None, default=None
        Whether the head's function set is convex (its least-squares fit a
        projection onto a convex set); ``None``: not declared.
    exact : bool, default=True
        Whether ``fit`` computes the least-squares minimiser exactly (to
        rounding); ``False`` for, e.g., a gradient method run for a fixed
        number of epochs.
    fits_from_statistics : bool, default=False
        Whether the head has a ``fit_from_statistics(statistics, y_ndim=2)``
        method (fits from :class:`~skwtsg.heads.LeastSquaresStatistics`).

    See Also
    --------
    SkwtsgTags : scikit-learn's tags with a ``head_tags`` field.
    get_head_tags : Read these tags of any estimator.

    Examples
    --------
    >>> from skwtsg.heads import HeadTags
    >>> HeadTags(convex=True)
    HeadTags(convex=True, exact=True, fits_from_statistics=False)
    """

    convex: bool | None = None
    exact: bool = True
    fits_from_statistics: bool = False


@dataclass(slots=True)
class SkwtsgTags(Tags):
    """scikit-learn's estimator tags with skwtsg's :class:`HeadTags`.

    A head returns it from ``__sklearn_tags__``: convert the tags of
    ``super().__sklearn_tags__()`` with :meth:`from_tags`, then set
    ``head_tags``.

    Parameters
    ----------
    head_tags : HeadTags, default=HeadTags()
        What the head declares about its fit. The other parameters are those
        of :class:`sklearn.utils.Tags`.

    See Also
    --------
    HeadTags : The fields of ``head_tags``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator, RegressorMixin
    >>> from skwtsg.heads import HeadTags, SkwtsgTags, is_convex_head
    >>> class NonNegativeMeanHead(RegressorMixin, BaseEstimator):
    ...     '''The best constant >= 0: a projection onto a convex set.'''
    ...
    ...     def fit(self, X, y):
    ...         self.constant_ = max(float(np.mean(y)), 0.0)
    ...         return self
    ...
    ...     def predict(self, X):
    ...         return np.full(len(X), self.constant_)
    ...
    ...     def __sklearn_tags__(self):
    ...         tags = SkwtsgTags.from_tags(super().__sklearn_tags__())
    ...         tags.head_tags = HeadTags(convex=True, exact=True)
    ...         return tags
    >>> is_convex_head(NonNegativeMeanHead(), return_exact=True)
    (True, True)
    """

    head_tags: HeadTags = field(default_factory=HeadTags)

    @classmethod
    def from_tags(cls, tags: Tags) -> SkwtsgTags:
        """The same tags as ``tags``, as :class:`SkwtsgTags`.

        Parameters
        ----------
        tags : sklearn.utils.Tags
            Typically ``super().__sklearn_tags__()``.

        Returns
        -------
        SkwtsgTags
            ``tags`` itself if it is one already, otherwise new tags sharing
            its fields, with the default :class:`HeadTags`.
        """
        if isinstance(tags, cls):
            return tags
        return cls(**{f.name: getattr(tags, f.name) for f in fields(tags)})


def get_head_tags(estimator: Any) -> HeadTags:
    """The :class:`HeadTags` an estimator declares (the defaults if none).

    Parameters
    ----------
    estimator : estimator instance
        Any object (a Pipeline declares nothing: see
        :func:`~skwtsg.heads.is_convex_head`, which reads its last step).

    Returns
    -------
    HeadTags
        ``get_tags(estimator).head_tags``, or ``HeadTags()``.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from skwtsg.heads import LeastSquaresHead, get_head_tags
    >>> get_head_tags(LeastSquaresHead())
    HeadTags(convex=True, exact=True, fits_from_statistics=True)
    >>> get_head_tags(Ridge())
    HeadTags(convex=None, exact=True, fits_from_statistics=False)
    """
    if isinstance(estimator, type) or not hasattr(estimator, "__sklearn_tags__"):
        return HeadTags()
    head_tags = getattr(get_tags(estimator), "head_tags", None)
    return head_tags if isinstance(head_tags, HeadTags) else HeadTags()
