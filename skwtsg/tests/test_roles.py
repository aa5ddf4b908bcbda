"""The division of rows into roles (skwtsg/_roles.py)."""

import numpy as np
import pytest

from skwtsg._roles import (
    BOTH,
    EVAL,
    ROLES,
    STRONG,
    WEAK,
    RoleAssignment,
    assign_roles,
)


def test_codes_index_roles():
    assert [ROLES[c] for c in (WEAK, STRONG, BOTH, EVAL)] == list(ROLES)


def test_default_split_partitions_labeled_rows():
    split = assign_roles(np.ones(100, dtype=bool), random_state=0)
    assert isinstance(split, RoleAssignment)
    assert split.codes.dtype == np.int8
    assert (len(split.eval_rows), len(split.strong_rows), len(split.weak_rows)) == (
        20,
        40,
        40,
    )
    rows = np.concatenate([split.eval_rows, split.strong_rows, split.weak_rows])
    np.testing.assert_array_equal(np.sort(rows), np.arange(100))
    assert not split.reuse
    np.testing.assert_array_equal(split.names()[split.eval_rows], "eval")


def test_pure_function_of_random_state():
    labeled = np.ones(50, dtype=bool)
    a = assign_roles(labeled, random_state=3)
    b = assign_roles(labeled, random_state=3)
    np.testing.assert_array_equal(a.codes, b.codes)
    c = assign_roles(labeled, random_state=4)
    assert not np.array_equal(a.codes, c.codes)


def test_unlabeled_rows_are_strong_and_reuse_is_both():
    labeled = np.r_[np.zeros(10, dtype=bool), np.ones(20, dtype=bool)]
    split = assign_roles(labeled, eval_size=5, random_state=0)
    np.testing.assert_array_equal(split.strong_rows, np.arange(10))
    assert len(split.eval_rows) == 5 and len(split.weak_rows) == 15
    split = assign_roles(np.ones(20, dtype=bool), strong_size="reuse", eval_size=0)
    assert split.reuse
    np.testing.assert_array_equal(split.weak_rows, split.strong_rows)
    np.testing.assert_array_equal(split.codes, BOTH)


def test_explicit_roles_become_codes():
    roles = ["weak", "strong", "both", "eval", "strong"]
    labeled = np.array([True, True, True, True, False])
    split = assign_roles(labeled, roles=roles)
    np.testing.assert_array_equal(split.codes, [WEAK, STRONG, BOTH, EVAL, STRONG])
    np.testing.assert_array_equal(split.names(), roles)
    np.testing.assert_array_equal(split.weak_rows, [0, 2])
    np.testing.assert_array_equal(split.strong_rows, [1, 2, 4])
    with pytest.raises(ValueError, match="need true labels"):
        assign_roles(labeled, roles=["weak", "strong", "both", "eval", "eval"])
    with pytest.raises(ValueError, match="unknown values"):
        assign_roles(labeled, roles=["weak"] * 4 + ["teacher"])
    with pytest.raises(ValueError, match="shape"):
        assign_roles(labeled, roles=["weak"] * 4)


@pytest.mark.parametrize("strong_size", [5000, 192, 0.999])
def test_strong_size_leaving_no_weak_row_raises(strong_size):
    # 240 rows, 48 held out: 192 remain. A strong_size taking all of them
    # used to be clipped silently, leaving the weak model one row.
    with pytest.raises(ValueError, match="strong_size"):
        assign_roles(np.ones(240, dtype=bool), strong_size=strong_size)


def test_strong_size_at_the_limit_is_kept():
    split = assign_roles(np.ones(240, dtype=bool), strong_size=191)
    assert len(split.strong_rows) == 191 and len(split.weak_rows) == 1


# n = 101 rows: 0.2 of them is 20.2, rounded up to 21 held out; 0.33 of the
# 80 left is 26.4, rounded up to 27 strong rows. Rounding down, to nearest or
# taking the fraction of all rows instead of the rows left gives other counts.
@pytest.mark.parametrize(
    "strong_size, counts",
    [
        (0.33, {"eval": 21, "strong": 27, "weak": 53}),
        (0.5, {"eval": 21, "strong": 40, "weak": 40}),
        (0.01, {"eval": 21, "strong": 1, "weak": 79}),
        (30, {"eval": 21, "strong": 30, "weak": 50}),
        ("reuse", {"eval": 21, "both": 80}),
    ],
)
def test_exact_role_counts_where_rounding_matters(strong_size, counts):
    split = assign_roles(
        np.ones(101, dtype=bool), eval_size=0.2, strong_size=strong_size, random_state=0
    )
    names, n = np.unique(split.names(), return_counts=True)
    assert dict(zip(names.tolist(), n.tolist())) == counts


def test_exact_role_counts_with_unlabeled_rows_and_a_count():
    labeled = np.ones(101, dtype=bool)
    labeled[::4] = False  # 26 unlabeled rows, 75 labeled
    split = assign_roles(labeled, eval_size=0.21, random_state=1)  # 15.75 -> 16
    assert (len(split.eval_rows), len(split.weak_rows), len(split.strong_rows)) == (
        16,
        59,
        26,
    )
    split = assign_roles(np.ones(101, dtype=bool), eval_size=7, strong_size=0.5)
    assert (len(split.eval_rows), len(split.strong_rows), len(split.weak_rows)) == (
        7,
        47,
        47,
    )
    split = assign_roles(np.ones(101, dtype=bool), eval_size=0.2, fixed_weak=True)
    assert (len(split.eval_rows), len(split.strong_rows), len(split.weak_rows)) == (
        21,
        80,
        0,
    )


@pytest.mark.parametrize("estimator", ["regressor", "classifier"])
def test_estimators_exact_role_counts(estimator):
    from skwtsg import WeakToStrongClassifier, WeakToStrongRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(101, 2))
    if estimator == "regressor":
        est = WeakToStrongRegressor(eval_size=0.2, strong_size=0.33, random_state=0)
        y = X[:, 0] + rng.normal(size=101)
    else:
        est = WeakToStrongClassifier(eval_size=0.2, strong_size=0.33, random_state=0)
        y = (X[:, 0] + rng.normal(size=101) > 0).astype(int)
    est.fit(X, y)
    names, n = np.unique(est.roles_, return_counts=True)
    assert dict(zip(names.tolist(), n.tolist())) == {
        "eval": 21,
        "strong": 27,
        "weak": 53,
    }


def test_explicit_roles_name_the_unlabeled_rows_that_need_labels():
    labeled = np.ones(8, dtype=bool)
    labeled[[1, 2, 6]] = False  # row 1 may be "strong"; rows 2 and 6 may not
    roles = np.array(
        ["weak", "strong", "eval", "both", "weak", "strong", "both", "eval"]
    )
    with pytest.raises(ValueError, match=r"but y is NaN on rows \[2, 6\]\.$"):
        assign_roles(labeled, roles=roles)
    roles = np.array(["strong"] * 2 + ["weak"] * 6)
    labeled = np.zeros(8, dtype=bool)
    labeled[:2] = True
    with pytest.raises(ValueError, match=r"rows \[2, 3, 4, 5, 6\]\.$"):  # five
        assign_roles(labeled, roles=roles)
