"""Readable names of a search's candidates, from the parameters that vary."""

from __future__ import annotations

__all__: list[str] = []


def _short_value(value, width=32):
    """Short text for a parameter value (estimators print compactly)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= width else text[: width - 3] + "..."


class _EstimatorName(str):
    """Class name standing for an estimator-valued parameter."""


def _flat_params(params):
    """Parameters with estimator values expanded into their own parameters."""
    flat = {}
    for key, value in params.items():
        if hasattr(value, "get_params"):
            flat[key] = _EstimatorName(type(value).__name__)
            for sub, sub_value in value.get_params(deep=True).items():
                flat[f"{key}__{sub}"] = (
                    _EstimatorName(type(sub_value).__name__)
                    if hasattr(sub_value, "get_params")
                    else sub_value
                )
        else:
            flat[key] = value
    return flat


def _holds_estimators(value):
    """True for lists such as a Pipeline's ``steps`` (expanded elsewhere)."""
    if not isinstance(value, (list, tuple)):
        return False
    return any(
        hasattr(item, "get_params")
        or (isinstance(item, tuple) and any(hasattr(i, "get_params") for i in item))
        for item in value
    )


def _params_labels(all_params):
    """One label per ``cv_results_["params"]`` entry, from what varies.

    Estimator values are expanded into their parameters (``PCA(1)`` and
    ``PCA(3)`` give ``"n_components=1"`` and ``"n_components=3"``), or named
    by their class when it varies; labels that still coincide are numbered.
    """
    flats = [_flat_params(p) for p in all_params]
    keys = []
    for flat in flats:
        keys.extend(k for k in flat if k not in keys)
    varying = [
        k
        for k in keys
        if not any(_holds_estimators(f.get(k)) for f in flats)
        and len({_short_value(f[k], 200) for f in flats if k in f}) > 1
    ]

    def one(flat):
        parts = []
        for key in varying:
            if key not in flat:
                continue
            value = flat[key]
            if isinstance(value, _EstimatorName):
                parts.append(str(value))
            else:
                parts.append(f"{key.rsplit('__', 1)[-1]}={_short_value(value)}")
        return ", ".join(parts) or "default"

    labels = [one(flat) for flat in flats]
    if len(set(labels)) < len(labels):
        labels = [f"{i}: {label}" for i, label in enumerate(labels)]
    return labels
