"""scikit-learn's common estimator checks for the meta-estimator."""

from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skwtsg import WeakToStrongRegressor

EXPECTED_FAILED_CHECKS = {
    # Rows are divided at random between the weak model, the strong model and
    # evaluation: repeating a row (integer weight) changes that division, so
    # weights cannot be equivalent to repetitions.
    "check_sample_weight_equivalence_on_dense_data": (
        "rows are divided at random between roles; repetition changes the division"
    ),
}


@parametrize_with_checks(
    [
        WeakToStrongRegressor(random_state=0),
        WeakToStrongRegressor(PCA(n_components=1), StandardScaler(), random_state=0),
        WeakToStrongRegressor(
            StandardScaler(), head=Ridge(alpha=0.1), strong_size="reuse", eval_size=0
        ),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
