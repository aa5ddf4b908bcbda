"""How the KL metrics read class labels, and the exact errors they give.

The log-loss on hard labels is checked against scikit-learn's ``log_loss``
(labels mapped to the probability columns independently), and each error
message that names a parameter is asserted in full.
"""

import re

import numpy as np
import pytest
from sklearn.metrics import log_loss

from skwtsg.metrics import (
    accuracy_pgr,
    kl_error,
    weak_to_strong_classification_report,
)

P3 = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])


def _exact(message):
    return "^" + re.escape(message) + "$"


def test_integer_labels_are_column_indices_even_with_a_class_missing():
    # 0..K-1 read as columns although class 1 never occurs (np.unique would
    # find 2 labels for 3 columns)
    y = np.array([0, 2, 2, 0])
    assert kl_error(y, P3) == pytest.approx(log_loss(y, P3, labels=[0, 1, 2]))
    assert kl_error(np.zeros(4, dtype=np.uint8), P3) == pytest.approx(
        -np.log(P3[:, 0]).mean()
    )


def test_labels_beyond_the_columns_are_sorted_classes():
    # 1..K are not column indices: the sorted distinct labels are the columns
    y = np.array([1, 2, 3, 3])
    assert kl_error(y, P3) == pytest.approx(log_loss(y, P3))
    with pytest.raises(ValueError, match=r"^`y_true` has 2 distinct labels"):
        kl_error(np.array([0, 3, 3, 0]), P3)


def test_string_labels_map_to_sorted_columns():
    y = np.array(["b", "a", "c", "a"])
    assert kl_error(y, P3) == pytest.approx(log_loss(y, P3))
    # explicit labels in any order, read through a sort
    labels = np.array(["c", "a", "b"])
    expected = -np.log(P3[np.arange(4), [2, 1, 0, 1]]).mean()
    assert kl_error(y, P3, labels=labels) == pytest.approx(expected)


def test_a_single_label_column_is_a_label_vector():
    y = np.array([0, 2, 1, 1])
    assert kl_error(y[:, None], P3) == kl_error(y, P3)
    assert accuracy_pgr(
        y[:, None], [0, 0, 0, 0], [0, 2, 0, 0], [0, 2, 1, 0]
    ) == pytest.approx(0.5)


def test_label_shape_and_row_messages():
    with pytest.raises(
        ValueError,
        match=_exact(
            "`y_true` must be labels of shape (n_samples,) or probabilities of "
            "shape (n_samples, n_classes), got shape (4, 1, 2)."
        ),
    ):
        kl_error(np.zeros((4, 1, 2), dtype=int), P3)
    with pytest.raises(
        ValueError,
        match=_exact(
            "`y_weak` must be class labels of shape (n_samples,), got shape (4, 2)."
        ),
    ):
        accuracy_pgr([0, 1, 1, 0], np.zeros((4, 2)), [0, 1, 0, 0], [0, 1, 1, 0])
    message = (
        "Found input variables with inconsistent numbers of samples: "
        "`y_true` has 0 rows and `p_pred` 1."
    )
    with pytest.raises(ValueError, match=_exact(message)):  # a scalar, 1 row
        kl_error(np.int64(1), P3[:1])
    with pytest.raises(ValueError, match=_exact(message.replace("1.", "4."))):
        kl_error(1, P3)
    with pytest.raises(
        ValueError, match=_exact("`y_true` and `p_pred` have 5 and 3 rows.")
    ):
        kl_error(np.full((5, 2), 0.5), P3[:3, :2] / P3[:3, :2].sum(axis=1)[:, None])
    with pytest.raises(
        ValueError, match=_exact("`y_true` and `p_weak` have 4 and 3 rows.")
    ):
        weak_to_strong_classification_report(
            np.ones((4, 2)) / 2, np.ones((3, 2)) / 2, np.ones((3, 2)) / 2
        )


def test_label_value_messages():
    with pytest.raises(
        ValueError,
        match=_exact("`y_true` must be real class labels, got complex values."),
    ):
        kl_error(np.array([0, 1j, 1, 0]), P3)
    with pytest.raises(
        ValueError,
        match=_exact("`labels` must be real class labels, got complex values."),
    ):
        kl_error([0, 1, 2, 0], P3, labels=np.array([0, 1j, 2]))
    with pytest.raises(
        ValueError,
        match=_exact(
            "`y_true` has 2 distinct labels but the probabilities have 3 columns: "
            "pass `labels`, the class of each column (e.g. the estimator's classes_)."
        ),
    ):
        kl_error(["a", "b", "a", "b"], P3)
    P = np.full((8, 2), 0.5)
    with pytest.raises(
        ValueError, match=_exact("`y_true` has labels [2, 3, 4, 5, 6] not in `labels`.")
    ):
        kl_error([0, 2, 3, 4, 5, 6, 7, 8], P, labels=[0, 1])


def test_missing_hard_labels_name_the_first_five_rows():
    y = np.array([0, np.nan, 1, np.nan, np.nan, 1, np.nan, np.nan, np.nan])
    with pytest.raises(
        ValueError,
        match=_exact(
            "`y_true` has missing labels (NaN or None) on rows [1, 3, 4, 6, 7]: "
            "pass labeled rows only."
        ),
    ):
        accuracy_pgr(y, np.zeros(9), np.zeros(9), np.ones(9))


def test_undefined_pgr_messages():
    with pytest.raises(
        ValueError,
        match=_exact(
            "accuracy_pgr is undefined: the ceiling's accuracy equals the weak "
            "model's, so there is no gap to recover."
        ),
    ):
        accuracy_pgr([0, 1, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0])
    P = np.array([[0.8, 0.2], [0.3, 0.7]])
    with pytest.raises(
        ValueError,
        match=_exact(
            "The pgr is undefined: the ceiling's error equals the weak model's, "
            "so there is no gap to recover."
        ),
    ):
        weak_to_strong_classification_report([0, 1], P, P[:, ::-1], p_ceiling=P)
    # the same accuracy (both right on every row), another error
    with pytest.raises(
        ValueError,
        match=_exact(
            "The accuracy_pgr is undefined: the ceiling's accuracy equals the "
            "weak model's, so there is no gap to recover."
        ),
    ):
        weak_to_strong_classification_report(
            [0, 1], P, P, p_ceiling=np.array([[0.9, 0.1], [0.2, 0.8]])
        )


def test_report_reads_every_model_through_labels():
    # columns in the order ["b", "a"]: dropping `labels` anywhere would read
    # them sorted, i.e. swapped
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b"], size=40)
    P_w, P_s, P_c = (rng.dirichlet([1.0, 1.0], size=40) for _ in range(3))
    labels = ["b", "a"]
    report = weak_to_strong_classification_report(
        y, P_w, P_s, p_ceiling=P_c, labels=labels
    )
    column = np.array([labels.index(v) for v in y])
    for key, P in (("weak", P_w), ("strong", P_s), ("ceiling", P_c)):
        # sklearn's log_loss wants sorted labels: the columns swapped for it
        assert report[f"{key}_error"] == pytest.approx(log_loss(y, P[:, ::-1]))
        log_p = np.log(P[np.arange(40), column])
        assert report[f"{key}_error"] == pytest.approx(-log_p.mean())
        accuracy = np.mean(np.asarray(labels)[P.argmax(axis=1)] == y)
        assert report[f"{key}_accuracy"] == pytest.approx(accuracy)


def test_report_messages_name_the_model():
    P = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    zero = np.array([[0.5, 0.5], [1.0, 0.0], [0.5, 0.5]])  # class 1 impossible on row 1
    y = [0, 1, 1]
    P5 = np.full((5, 2), 0.5)  # 5 rows, 2 columns: rows and columns told apart
    for kwargs, name in (
        ({"p_strong": zero}, "p_strong"),
        ({"p_strong": P, "p_ceiling": zero}, "p_ceiling"),
    ):
        with pytest.raises(
            ValueError,
            match=_exact(
                f"The log-loss of `{name}` is infinite: it gives probability 0 to "
                "the true class on rows [1]."
            ),
        ):
            weak_to_strong_classification_report(y, P, **kwargs)
    for kwargs, message in (
        ({"p_strong": P5}, "`p_weak` and `p_strong` have 3 and 5 rows."),
        (
            {"p_strong": P, "p_ceiling": P5},
            "`p_weak` and `p_ceiling` have 3 and 5 rows.",
        ),
    ):
        with pytest.raises(ValueError, match=_exact(message)):
            weak_to_strong_classification_report(y, P, **kwargs)
