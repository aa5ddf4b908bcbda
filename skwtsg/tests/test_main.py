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
