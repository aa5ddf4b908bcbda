"""Exact convex heads: the strong model's ``f_sw`` over a convex set ``F_s``.

Each head solves its least-squares problem exactly, with an optimality
certificate ``kkt_residual_``, so Theorem 1 applies; its tags say so
(:class:`SkwtsgTags`). The gradient-trained heads import torch when fitted.
Read more in the :ref:`User Guide <heads>`.
"""

from ._ball import BallLeastSquaresHead
from ._convexity import check_head_convexity, is_convex_head
from ._gradient import GradientLinearHead, NonConvexHead
from ._isotonic import IsotonicHead
from ._least_squares import LeastSquaresHead, RidgeHead
from ._nnls import NonNegativeLeastSquaresHead
from ._projection import pythagorean_gap
from ._ridge_loo import RidgeLOOHead, ridge_loo_errors
from ._softmax import SoftmaxHead, check_probabilities
from ._stats import LeastSquaresStatistics, block_statistics, merge_statistics
from ._tags import HeadTags, SkwtsgTags, get_head_tags

__all__ = [
    "BallLeastSquaresHead",
    "GradientLinearHead",
    "HeadTags",
    "IsotonicHead",
    "LeastSquaresHead",
    "LeastSquaresStatistics",
    "NonConvexHead",
    "NonNegativeLeastSquaresHead",
    "RidgeHead",
    "RidgeLOOHead",
    "SkwtsgTags",
    "SoftmaxHead",
    "block_statistics",
    "check_head_convexity",
    "check_probabilities",
    "get_head_tags",
    "is_convex_head",
    "merge_statistics",
    "pythagorean_gap",
    "ridge_loo_errors",
]
