"""The command line: built from the registry, user errors in one line."""

import sys

import pytest

import skwtsg
from skwtsg.__main__ import _prog, build_parser, main
from skwtsg.experiments import EXPERIMENTS


@pytest.mark.parametrize(
    "argv, message",
    [
        (["synthetic", "--panels", "2z"], "Unknown panels ['2z']"),
        (["molecules", "--datasets", "ESOLL"], "Unknown molecule dataset"),
        (["essays", "--data-home", "{missing}"], "not found at"),
        (["synthetic", "--heads", "adam"], "invalid choice: 'adam'"),
        (["synthetic", "--epochs", "many"], "invalid int value"),
        (["nope"], "invalid choice: 'nope'"),
        (["synthetic", "--panels", ""], "expected a comma-separated list"),
        (["synthetic", "--panels", ","], "expected a comma-separated list"),
        (["classification", "--parts", ""], "expected a comma-separated list"),
    ],
)
def test_user_errors_are_one_line_and_status_2(argv, message, tmp_path, capsys):
    argv = [a.replace("{missing}", str(tmp_path / "missing")) for a in argv]
    args = ["reproduce", *argv, "--quick", "--quiet", "--out", str(tmp_path / "o")]
    try:
        status = main(args)
    except SystemExit as exc:  # argparse's own errors exit
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_parser_is_built_from_the_experiments_options():
    parser = build_parser("skwtsg")
    for name, experiment in EXPERIMENTS.items():
        args = parser.parse_args(["reproduce", name])
        assert args.out == f"results/{name}"
        for option in experiment.options:
            assert getattr(args, option.dest) is None  # make_cases's default
    args = parser.parse_args(
        ["reproduce", "synthetic", "--panels", "2a, 3b", "--n-jobs", "1"]
    )
    assert args.panels == ["2a", "3b"] and args.n_jobs == 1


def test_program_name_and_version(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["/usr/bin/skwtsg"])
    assert _prog() == "skwtsg"
    monkeypatch.setattr(sys, "argv", ["/x/skwtsg/__main__.py"])
    assert _prog() == "python -m skwtsg"
    with pytest.raises(SystemExit) as exc:
        build_parser("skwtsg").parse_args(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"skwtsg {skwtsg.__version__}"


def test_a_new_experiment_is_one_registry_entry(monkeypatch, tmp_path, capsys):
    import json

    import numpy as np
    from sklearn.decomposition import PCA

    from skwtsg.experiments import Experiment, Option, W2SCase

    def make_cases(*, n_rows=300, quick=False, random_state=0):
        rng = np.random.RandomState(random_state)
        X = rng.normal(size=(n_rows, 4))
        y = X @ rng.normal(size=(4, 3))
        roles = np.repeat(["weak", "strong", "eval"], n_rows // 3)
        return [W2SCase("toy", X, y, roles, "passthrough", {"pca1": PCA(1)})]

    toy = Experiment(
        name="toy",
        make_cases=make_cases,
        help="a toy",
        options=(Option("--n-rows", "rows", type=int),),
    )
    monkeypatch.setitem(EXPERIMENTS, "toy", toy)
    out = tmp_path / "toy"
    args = ["reproduce", "toy", "--n-rows", "90", "--quiet", "--out", str(out)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["options"] == {"n_rows": 90}
    assert summary["panels"][""]["n_points"] == 3
    assert "slope" in capsys.readouterr().out
