"""The division of rows into roles (skwtsg/_roles.py)."""

import warnings

import numpy as np
import pytest

from skwtsg._roles import (
    BOTH,
    EVAL,
    ROLES,
    STRONG,
    WEAK,
    RoleAssignment,
    _row_uniforms,
    assign_roles,
    hash_role_codes,
    hash_row_classes,
    roles_of_classes,
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
    with pytest.raises(
        ValueError,
        match=r"^Rows with role 'weak', 'both' or 'eval' need true labels, but y is "
        r"NaN on rows \[2, 6\]\.$",
    ):
        assign_roles(labeled, roles=roles)
    roles = np.array(["strong"] * 2 + ["weak"] * 6)
    labeled = np.zeros(8, dtype=bool)
    labeled[:2] = True
    with pytest.raises(ValueError, match=r"rows \[2, 3, 4, 5, 6\]\.$"):  # five
        assign_roles(labeled, roles=roles)


def test_split_boundaries_of_the_rows_left_to_train():
    # Every row labeled, a float strong_size: two rows must remain (one per
    # model); one is enough with unlabeled rows or "reuse".
    full = np.ones(5, dtype=bool)
    with pytest.raises(
        ValueError,
        match=r"^Too few labeled rows: 5 sample\(s\), of which 4 are held out by "
        r"eval_size=4; at least 2 must remain to train the models\.$",
    ):
        assign_roles(full, eval_size=4, random_state=0)
    split = assign_roles(full, eval_size=3, random_state=0)
    assert (len(split.weak_rows), len(split.strong_rows)) == (1, 1)
    split = assign_roles(full, eval_size=4, strong_size="reuse", random_state=0)
    assert split.names().tolist().count("both") == 1
    some = np.array([True] * 5 + [False] * 3)
    split = assign_roles(some, eval_size=4, random_state=0)
    assert (len(split.weak_rows), len(split.strong_rows)) == (1, 3)
    with pytest.raises(
        ValueError, match=r"of which 5 are held out .* at least 1 must remain"
    ):
        assign_roles(some, eval_size=5, random_state=0)
    with pytest.raises(
        ValueError,
        match=r"^Every row of y is NaN \(unlabeled\): the weak model needs rows "
        r"with true labels\.$",
    ):
        assign_roles(np.zeros(4, dtype=bool), random_state=0)


def test_fixed_weak_needs_one_row_and_ignores_strong_size():
    split = assign_roles(
        np.ones(2, dtype=bool),
        eval_size=1,
        strong_size=50,
        fixed_weak=True,
        random_state=0,
    )
    assert split.names().tolist().count("strong") == 1
    assert len(split.weak_rows) == 0


def test_explicit_roles_without_a_weak_row_are_refused():
    with pytest.raises(
        ValueError,
        match=r"^Too few rows to fit both models: 0 sample\(s\) for the weak model "
        r"and 2 sample\(s\) for the strong model \(from 3 labeled and 0 "
        r"unlabeled rows\)\. Pass more rows, lower `eval_size`, or set `roles`\.$",
    ):
        assign_roles(np.ones(3, dtype=bool), roles=["strong", "strong", "eval"])


def test_labeled_as_integer_flags():
    flags = np.array([1, 0, 1, 1, 0, 1, 1, 1])
    a = assign_roles(flags, random_state=0)
    b = assign_roles(flags.astype(bool), random_state=0)
    np.testing.assert_array_equal(a.codes, b.codes)
    index = np.arange(len(flags))
    np.testing.assert_array_equal(
        hash_row_classes(index, flags, seed=1),
        hash_row_classes(index, flags.astype(bool), seed=1),
    )


_SPLITMIX64_SEED_0 = (0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F)


def _splitmix64(index, seed):
    """splitmix64 of state ``index + (seed + 1) * golden``, in Python ints."""
    mask = 2**64 - 1
    z = (index + (seed + 1) * 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def test_row_uniforms_are_splitmix64():
    # The first outputs of splitmix64 seeded with 0 (Vigna's reference
    # generator): state k * golden is row 0 under seed k - 1.
    for seed, value in enumerate(_SPLITMIX64_SEED_0):
        assert _row_uniforms(np.array([0]), seed)[0] == (value >> 11) * 2.0**-53
    index = np.array([0, 1, 2, 7, 1000, 2**40 + 3, 2**63 + 5], dtype=np.uint64)
    for seed in (0, 5, 123456):
        expected = [(_splitmix64(int(i), seed) >> 11) * 2.0**-53 for i in index]
        np.testing.assert_array_equal(_row_uniforms(index, seed), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning per block
        u = _row_uniforms(np.arange(20000), 3)
    assert u.dtype == np.float64
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)


def _share(mask):
    return mask.mean()


@pytest.mark.parametrize("strong_size", [0.4, "reuse"])
def test_hashed_classes_have_the_drawn_fractions(strong_size):
    n = 20000
    labeled = np.arange(n) % 4 != 0  # a quarter unlabeled
    classes = hash_row_classes(
        np.arange(n), labeled, eval_size=0.3, strong_size=strong_size, seed=2
    )
    assert classes.dtype == np.int8
    np.testing.assert_array_equal(classes[~labeled], 3)  # UNLABELED
    lab = classes[labeled]
    tol = 4 * np.sqrt(0.25 / lab.size)
    assert abs(_share(lab == 0) - 0.3) < tol
    first = 0.7 * (0.4 if strong_size == 0.4 else 1.0)
    assert abs(_share(lab == 1) - first) < tol
    assert abs(_share(lab == 2) - (0.7 - first)) < tol
    # A row's class is its hash against the documented thresholds.
    u = _row_uniforms(np.arange(n), 2)[labeled]
    np.testing.assert_array_equal(lab == 0, u < 0.3)
    if strong_size == 0.4:
        np.testing.assert_array_equal(lab == 1, (u >= 0.3) & ((u - 0.3) / 0.7 < 0.4))


def test_hashed_classes_with_defaults_and_blocks():
    n = 20000
    labeled = np.ones(n, dtype=bool)
    classes = hash_row_classes(np.arange(n), labeled, seed=0)
    tol = 4 * np.sqrt(0.25 / n)
    assert abs(_share(classes == 0) - 0.2) < tol
    assert abs(_share(classes == 1) - 0.4) < tol
    codes = hash_role_codes(np.arange(n), labeled, any_unlabeled=False, seed=0)
    assert abs(_share(codes == EVAL) - 0.2) < tol
    assert abs(_share(codes == STRONG) - 0.4) < tol
    assert abs(_share(codes == WEAK) - 0.4) < tol
    part = hash_role_codes(
        np.arange(500, 900), labeled[:400], any_unlabeled=False, seed=0
    )
    np.testing.assert_array_equal(part, codes[500:900])


def test_hash_role_codes_pass_the_sizes_on():
    n = 20000
    index, labeled = np.arange(n), np.ones(n, dtype=bool)
    codes = hash_role_codes(
        index, labeled, eval_size=0.1, strong_size=0.75, any_unlabeled=False, seed=4
    )
    tol = 4 * np.sqrt(0.25 / n)
    assert abs(_share(codes == EVAL) - 0.1) < tol
    assert abs(_share(codes == STRONG) - 0.9 * 0.75) < tol
    codes = hash_role_codes(
        index, labeled, strong_size="reuse", any_unlabeled=False, seed=4
    )
    assert set(np.unique(codes).tolist()) == {EVAL, BOTH}
    codes = hash_role_codes(
        index, labeled, strong_size="reuse", any_unlabeled=True, seed=4
    )
    assert set(np.unique(codes).tolist()) == {EVAL, WEAK}


def test_roles_of_classes_table():
    # held out, first, second, unlabeled
    for any_unlabeled, strong_size, expected in [
        (True, 0.5, [EVAL, WEAK, WEAK, STRONG]),
        (True, "reuse", [EVAL, WEAK, WEAK, STRONG]),
        (False, 0.5, [EVAL, STRONG, WEAK, STRONG]),
        (False, "reuse", [EVAL, BOTH, BOTH, STRONG]),
    ]:
        table = roles_of_classes(any_unlabeled, strong_size)
        assert table.dtype == np.int8
        np.testing.assert_array_equal(table, expected)


@pytest.mark.parametrize(
    ("sizes", "name"),
    [
        ({"eval_size": 5}, "eval_size"),
        ({"eval_size": 1}, "eval_size"),
        ({"strong_size": 3}, "strong_size"),
        ({"strong_size": 0}, "strong_size"),
    ],
)
def test_hashed_roles_refuse_counts(sizes, name):
    size = sizes[name]
    message = (
        f"^{name}={size} is a count of rows, but roles derived from a hash of the "
        "row index \\(the Dask path\\) take a fraction: pass "
        f"{name} as a float in \\(0, 1\\)\\.$"
    )
    with pytest.raises(ValueError, match=message):
        hash_row_classes(np.arange(4), np.ones(4, dtype=bool), seed=0, **sizes)


def test_hashed_roles_take_an_integer_zero_eval_size():
    classes = hash_row_classes(
        np.arange(50), np.ones(50, dtype=bool), eval_size=0, seed=0
    )
    assert not np.any(classes == 0)


def _index_of_uniform(u, seed):
    """The row index whose hash under ``seed`` is exactly ``u`` (a multiple
    of 2**-53), by running splitmix64 backwards: each xorshift and each odd
    multiplication mod 2**64 is invertible."""
    mask = 2**64 - 1

    def unshift(z, s):
        x = z
        for _ in range(64 // s + 1):
            x = z ^ (x >> s)
        return x

    z = int(u * 2**53) << 11
    z = unshift(z, 31)
    z = unshift((z * pow(0x94D049BB133111EB, -1, 2**64)) & mask, 27)
    z = unshift((z * pow(0xBF58476D1CE4E5B9, -1, 2**64)) & mask, 30)
    return (z - (seed + 1) * 0x9E3779B97F4A7C15) & mask


def test_hashed_thresholds_are_strict():
    # "eval" when u < eval_size, "strong" when (u - eval_size) / (1 -
    # eval_size) < strong_size: a row exactly on a threshold is on the far side.
    index = np.array([_index_of_uniform(0.5, 7)], dtype=np.uint64)
    assert _row_uniforms(index, 7)[0] == 0.5
    one = np.ones(1, dtype=bool)
    assert hash_row_classes(index, one, eval_size=0.5, seed=7)[0] != 0
    assert hash_row_classes(index, one, eval_size=0, strong_size=0.5, seed=7)[0] == 2


def test_strong_size_leaving_no_weak_row_names_the_limit():
    with pytest.raises(
        ValueError,
        match=r"^strong_size=8 asks for 8 of the 8 training rows left after "
        r"eval_size=0\.2, which leaves no row for the weak model; lower "
        r"`strong_size` \(at most 7 rows here\) or `eval_size`\.$",
    ):
        assign_roles(np.ones(10, dtype=bool), strong_size=8, random_state=0)
