"""check_string_column: the one checker of "one string per row" inputs."""

import numpy as np
import pandas as pd
import pytest

from skwtsg._utils._validation import check_string_column


@pytest.mark.parametrize(
    "X",
    [
        ["a", " b "],
        np.array([["a"], [" b "]], dtype=object),
        pd.Series(["a", " b "]),
        pd.DataFrame({"t": ["a", " b "]}),
    ],
)
def test_layouts(X):
    out = check_string_column(X)
    assert out.dtype == object and out.tolist() == ["a", " b "]
    assert check_string_column(X, strip=True).tolist() == ["a", "b"]


@pytest.mark.parametrize(
    "X, match",
    [
        ("abc", "single string"),
        (np.array([["a", "b"]], dtype=object), "one column of texts"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), "one column of texts"),
        (np.zeros((2, 1, 1)), "3 dimensions"),
        (["ok", 3], "row 1 of X is not a text: 3 \\(int\\)"),
    ],
)
def test_errors(X, match):
    with pytest.raises(ValueError, match=match):
        check_string_column(X, what="text")


def test_names_the_estimator():
    class Est:
        pass

    with pytest.raises(ValueError, match="^Est: row 0"):
        check_string_column([None], estimator=Est())
