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
        (["synthetic", "--epochs", "many"], "expected a positive integer"),
        (["synthetic", "--seed", "many"], "invalid int value"),
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


def _numeric_options():
    """(experiment, flag, dest) for every numeric option, read from the parser."""
    import argparse

    parser = build_parser("skwtsg")
    (commands,) = [
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    ]
    reproduce = commands.choices["reproduce"]
    (experiments,) = [
        a for a in reproduce._actions if isinstance(a, argparse._SubParsersAction)
    ]
    out = []
    for name, sub in experiments.choices.items():
        for action in sub._actions:
            if action.type is None or not action.option_strings:
                continue
            try:  # a numeric option reads "1" as a number (or a list of them)
                value = action.type("1")
            except (argparse.ArgumentTypeError, ValueError):
                continue
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out.append((name, action.option_strings[0], action.dest))
    return out


#: Numeric options where 0 is a value like any other (not a count), with why.
ZERO_MEANS_ZERO = {
    "--seed": "a seed",
    "--strong-layer": "layer 0 is the embedding layer's output",
    "--weak-layers": "layer 0 is the embedding layer's output",
}


def test_the_sweep_finds_every_numeric_option():
    found = {(name, flag) for name, flag, _ in _numeric_options()}
    assert ("synthetic", "--epochs") in found
    assert ("synthetic", "--pretrain-steps") in found
    assert ("classification", "--n-jobs") in found
    assert {name for name, _ in found} == set(EXPERIMENTS)  # --seed everywhere


@pytest.mark.parametrize(
    "name, flag, dest", _numeric_options(), ids=lambda v: str(v).lstrip("-")
)
def test_zero_is_refused_or_honoured(name, flag, dest, monkeypatch, capsys, tmp_path):
    """0 is never read as "the default": refused in one line, or passed as 0."""
    import skwtsg.experiments as experiments

    seen = {}

    def reproduce(experiment, **kwargs):
        seen.update(kwargs)
        raise ValueError("stopped before the run")

    monkeypatch.setattr(experiments, "reproduce", reproduce)
    argv = ["reproduce", name, flag, "0", "--quiet", "--out", str(tmp_path)]
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors exit
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    if flag in ZERO_MEANS_ZERO:
        passed = seen["random_state"] if flag == "--seed" else seen[dest]
        assert passed in (0, [0])  # honoured: 0 reaches the run as 0
    else:
        assert not seen  # refused before the run starts
        assert f"argument {flag}: expected a positive integer, got '0'" in err
