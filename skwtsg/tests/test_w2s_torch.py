"""End to end: torch featurizers inside WeakToStrongRegressor (section 5.1)."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

torch = pytest.importorskip("torch")

from skwtsg import WeakToStrongRegressor, bound_scorer  # noqa: E402
from skwtsg.datasets._synthetic import make_synthetic_tasks  # noqa: E402
from skwtsg.featurizers import MLP, TorchFeaturizer, perturb_weights  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """Every test here runs torch on one thread (see skwtsg/conftest.py)."""


@pytest.fixture(scope="module")
def case():
    tasks = make_synthetic_tasks(
        n_pretrain_tasks=2,
        n_pretrain_samples=10,
        n_tasks=8,
        n_samples=600,
        random_state=0,
    )
    X = np.vstack([tasks.X_weak, tasks.X_strong, tasks.X_eval])
    y = np.vstack([tasks.y_weak, tasks.y_strong, tasks.y_eval])
    roles = np.repeat(["weak", "strong", "eval"], 600)
    return tasks, X, y, roles


def test_realizable_perturbed_weak_model(case):
    """Figure 2a-like: h_s = h*, h_w a perturbation of h*; gain ≈ misfit."""
    tasks, X, y, roles = case
    h_star = tasks.target_module
    h_w = perturb_weights(h_star, 0.05, random_state=0)
    model = WeakToStrongRegressor(
        TorchFeaturizer(h_w), TorchFeaturizer(h_star), random_state=0
    ).fit(X, y, roles=roles)
    assert model.gain_.shape == model.misfit_.shape == (8,)
    assert np.all(model.misfit_ > 0)
    # Theorem 1, up to finite-sample terms: across tasks the gain tracks the
    # misfit (the paper's Figure 2a: points on the diagonal)
    assert 0.8 < model.gain_.sum() / model.misfit_.sum() < 1.25
    assert np.corrcoef(model.gain_, model.misfit_)[0, 1] > 0.9
    # realizable: the weakly supervised strong model beats its supervisor
    assert np.all(model.strong_error_ < model.weak_error_)


def test_grid_search_over_weak_module_params(case):
    tasks, X, y, roles = case
    rows = roles != "eval"
    est = WeakToStrongRegressor(
        TorchFeaturizer(MLP, module__n_layers=2, random_state=0),
        TorchFeaturizer(tasks.target_module),
        random_state=0,
    )
    assert est.get_params()["weak_featurizer__module__n_layers"] == 2
    assert (
        clone(est)
        .set_params(weak_featurizer__module__n_layers=3)
        .weak_featurizer.module__n_layers
        == 3
    )
    search = GridSearchCV(
        est,
        {"weak_featurizer__module__n_layers": [1, 3]},
        scoring=bound_scorer,
        cv=2,
    ).fit(X[rows], y[rows, :2])
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and scores[0] != scores[1]
    best_layers = [1, 3][int(np.argmax(scores))]
    assert search.best_params_["weak_featurizer__module__n_layers"] == best_layers
    best = search.best_estimator_.weak_featurizer_
    n_linear = sum(isinstance(m, torch.nn.Linear) for m in best.module_)
    assert n_linear == search.best_params_["weak_featurizer__module__n_layers"]


def test_representations_that_learn_or_were_fitted_are_named(case):
    """A strong featurizer trained on the weak labels, and a fitted featurizer
    that fit would refit, each get a warning that says what to do."""
    from sklearn.frozen import FrozenEstimator

    from skwtsg.featurizers import MultiTaskFeaturizer

    tasks, X, y, roles = case
    X, y = X[:, :5] if X.shape[1] > 5 else X, y[:, 0]
    learner = MultiTaskFeaturizer(MLP, max_epochs=1, random_state=0)
    est = WeakToStrongRegressor(strong_featurizer=learner, random_state=0)
    with pytest.warns(UserWarning, match="trained to imitate the weak model"):
        est.fit(X, y)
    fitted = clone(learner).fit(X, y.reshape(-1, 1))
    est = WeakToStrongRegressor(weak_featurizer=fitted, random_state=0)
    with pytest.warns(UserWarning, match="already fitted.*FrozenEstimator"):
        est.fit(X, y)
    # frozen: kept as it is, no warning about it
    import warnings

    est = WeakToStrongRegressor(
        FrozenEstimator(fitted), FrozenEstimator(fitted), random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    assert not [
        w for w in caught if "fitted" in str(w.message) or "imitate" in str(w.message)
    ]


def test_grid_search_tunes_a_pretrained_strong_architecture(case, monkeypatch):
    """Pretrain-then-freeze inside fit: GridSearchCV scored by the bound tunes
    the strong architecture; every candidate is pretrained on the pretraining
    data only, never on the weak labels, and no warning says otherwise."""
    import warnings

    from skwtsg.featurizers import MultiTaskFeaturizer, PretrainedFeaturizer

    tasks, X, y, roles = case
    rows = roles != "eval"
    X, y = X[rows], y[rows, :2]
    seen = []
    fit = MultiTaskFeaturizer.fit

    def spy(self, X, y=None):
        seen.append(
            (
                self.module__n_layers,
                np.array_equal(X, tasks.pretrain_X)
                and np.array_equal(y, tasks.pretrain_Y, equal_nan=True),
            )
        )
        return fit(self, X, y)

    monkeypatch.setattr(MultiTaskFeaturizer, "fit", spy)
    inner = MultiTaskFeaturizer(
        task_heads=tasks.pretrain_heads,
        module__n_layers=2,
        max_epochs=3,
        n_init=1,
        random_state=0,
    )
    strong = PretrainedFeaturizer(inner, tasks.pretrain_X, tasks.pretrain_Y)
    est = WeakToStrongRegressor(
        TorchFeaturizer(perturb_weights(tasks.target_module, 0.05, random_state=0)),
        strong,
        random_state=0,
    )
    grid = {"strong_featurizer__featurizer__module__n_layers": [1, 3]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = GridSearchCV(
            clone(est), grid, scoring=bound_scorer, cv=2, n_jobs=1
        ).fit(X, y)
    assert not [
        w for w in caught if "imitate" in str(w.message) or "fitted" in str(w.message)
    ]
    best = search.best_params_["strong_featurizer__featurizer__module__n_layers"]
    # 2 candidates x 2 folds, then the refit: all on the pretraining data
    assert all(on_pretraining for _, on_pretraining in seen)
    counts = {n: sum(m == n for m, _ in seen) for n in (1, 3)}
    assert counts == {best: 3, 4 - best: 2}
    fitted = search.best_estimator_.strong_featurizer_.featurizer_
    n_linear = sum(isinstance(m, torch.nn.Linear) for m in fitted.module_)
    assert n_linear == best
    # the fixed representation: the one pretrained apart, whatever the y
    alone = clone(inner).set_params(module__n_layers=best)
    alone = fit(alone, tasks.pretrain_X, tasks.pretrain_Y)
    np.testing.assert_array_equal(fitted.transform(X), alone.transform(X))
    again = clone(strong).set_params(featurizer__module__n_layers=best)
    np.testing.assert_array_equal(
        again.fit(X, -y[:, 0]).transform(X), alone.transform(X)
    )


@pytest.mark.filterwarnings("ignore:bound_ is negative")  # 2 epochs of training
def test_verbose_reaches_a_pretrained_skorch_featurizer(case, capsys):
    """verbose forwards through PretrainedFeaturizer to skorch's epoch table."""
    from skwtsg.featurizers import PretrainedFeaturizer, SkorchFeaturizer

    tasks, X, y, roles = case
    inner = SkorchFeaturizer(MLP, module__n_layers=1, max_epochs=2, random_state=0)
    Y_pre = np.nan_to_num(tasks.pretrain_Y)
    est = WeakToStrongRegressor(
        TorchFeaturizer(perturb_weights(tasks.target_module, 0.05, random_state=0)),
        PretrainedFeaturizer(inner, tasks.pretrain_X, Y_pre),
        random_state=0,
        verbose=1,
    ).fit(X, y[:, 0], roles=roles)
    out = capsys.readouterr().out
    assert "train_loss" in out  # skorch's table
    assert "(step 3 of 5) strong featurizer" in out
    assert est.strong_featurizer_.featurizer_.verbose == 1
    assert inner.verbose == 0
