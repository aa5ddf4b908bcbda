"""The template fit of every estimator: ``verbose`` stage reports."""

import re

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skwtsg import WeakToStrongClassifier, WeakToStrongRegressor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(200, 5))
Y_REG = X @ [1.0, 2.0, 0.0, -1.0, 0.5]
Y_CLS = (Y_REG > 0).astype(int)

STAGES = [
    "weak featurizer fitted on the weak rows",
    "weak head fitted on true labels, weak labels made",
    "strong featurizer fitted, strong rows featurized",
    "strong head fitted on the weak labels",
    "diagnostics measured",
]


@pytest.mark.parametrize(
    "Estimator, y",
    [(WeakToStrongRegressor, Y_REG), (WeakToStrongClassifier, Y_CLS)],
)
def test_verbose_reports_each_stage_with_its_time(Estimator, y, capsys):
    est = Estimator(FunctionTransformer(np.sign), StandardScaler(), random_state=0)
    est.fit(X, y)
    assert capsys.readouterr().out == ""
    est.set_params(verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    name = Estimator.__name__
    assert len(lines) == 5
    for step, (line, stage) in enumerate(zip(lines, STAGES), start=1):
        assert line.startswith(f"[{name}] ")
        assert f"(step {step} of 5) {stage}, total=" in line
        assert re.search(r"total=\s*\d+\.\ds$", line)


def test_verbose_is_forwarded_to_silent_featurizers_only(capsys):
    quiet = make_pipeline(FunctionTransformer(np.sign), PCA(2))  # verbose=False
    loud = make_pipeline(FunctionTransformer(np.sign), PCA(3), verbose=True)
    frozen = FrozenEstimator(make_pipeline(StandardScaler()).fit(X))
    est = WeakToStrongRegressor(quiet, frozen, verbose=2, random_state=0)
    est.fit(X, Y_REG)
    out = capsys.readouterr().out
    # the weak Pipeline was silent: it now reports its steps, as a bool
    assert "(step 1 of 2) Processing functiontransformer" in out
    assert est.weak_featurizer_.verbose is True
    assert est.weak_featurizer.verbose is False  # the parameter is untouched
    # a frozen featurizer is not refitted, so not touched
    assert est.strong_featurizer_.estimator.verbose is False
    est = WeakToStrongRegressor(loud, verbose=0, random_state=0).fit(X, Y_REG)
    assert "[Pipeline]" in capsys.readouterr().out  # its own verbose stands


def test_verbose_is_validated():
    with pytest.raises(ValueError, match="verbose"):
        WeakToStrongRegressor(verbose="loud").fit(X, Y_REG)


def test_verbose_on_dask_collections_reports_one_line(capsys):
    da = pytest.importorskip("dask.array")
    X_dask = da.from_array(X, chunks=100)
    y_dask = da.from_array(Y_REG, chunks=100)
    WeakToStrongRegressor(
        FunctionTransformer(np.sign), random_state=0, verbose=1
    ).fit(X_dask, y_dask)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("[WeakToStrongRegressor] ")
    assert "fit on Dask collections, total=" in lines[0]
