"""Input validation shared by estimators, heads, featurizers and metrics."""


def check_string_column(X, *, what="string", strip=False, estimator=None):
    """Return one column of strings as a 1-D object array.

    The one checker of "one string per row" inputs (texts, SMILES). Accepts a
    1-D sequence, a pandas Series, an ``(n_samples, 1)`` array or a
    one-column DataFrame.

    Parameters
    ----------
    X : sequence of str, Series, array of shape (n_samples, 1) or DataFrame
        The input.
    what : str, default="string"
        What each string is, for the messages (e.g. ``"SMILES string"``).
    strip : bool, default=False
        Strip surrounding whitespace from each string.
    estimator : estimator instance or None, default=None
        Named in the messages.

    Returns
    -------
    values : ndarray of object of shape (n_samples,)
        The strings.

    Raises
    ------
    ValueError
        When ``X`` is a single string, has more than one column or more than
        two dimensions, or holds a non-string element (the row is named).
    """
    import numpy as np

    who = f"{type(estimator).__name__}: " if estimator is not None else ""
    if isinstance(X, (str, bytes)):
        raise ValueError(
            f"{who}X must be a sequence of {what}s (one per row), got a single "
            "string; wrap it in a list."
        )
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # a DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                f"{who}X must have one column of {what}s; got a DataFrame with "
                f"{X.shape[1]} columns."
            )
        X = X.iloc[:, 0]
    if hasattr(X, "to_numpy"):  # a Series
        X = X.to_numpy(dtype=object)
    values = np.asarray(X, dtype=object)
    if values.ndim == 2:
        if values.shape[1] != 1:
            raise ValueError(
                f"{who}X must have one column of {what}s (1-D or shape "
                f"(n_samples, 1)); got shape {values.shape}."
            )
        values = values[:, 0]
    elif values.ndim != 1:
        raise ValueError(
            f"{who}X must be 1-D or of shape (n_samples, 1) (one {what} per "
            f"row); got {values.ndim} dimensions."
        )
    out = np.empty(len(values), dtype=object)
    for i, s in enumerate(values):
        if not isinstance(s, str):
            raise ValueError(
                f"{who}row {i} of X is not a {what}: {s!r:.40} ({type(s).__name__})."
            )
        out[i] = s.strip() if strip else s
    return out
