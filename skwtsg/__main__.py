"""Command line: ``skwtsg reproduce NAME`` (or ``python -m skwtsg reproduce NAME``).

The experiments and their options come from
:data:`skwtsg.experiments.EXPERIMENTS`: each :class:`~skwtsg.experiments.Experiment`
declares its own options, so this module knows no experiment by name.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence

#: Errors of a run that come from what the user asked for (an unknown panel or
#: dataset, a missing data folder): reported in one line, with exit status 2.
_USER_ERRORS = (ValueError, OSError, ImportError)


def _prog() -> str:
    """``skwtsg`` for the console script, ``python -m skwtsg`` for ``-m``."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m skwtsg" if name in ("", "__main__.py", "-c") else name


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser, one sub-command per registered experiment.

    Parameters
    ----------
    prog : str, default=None
        Program name in messages; ``None`` uses how it was called.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    from . import __version__
    from .experiments import EXPERIMENTS

    parser = _Parser(
        prog=prog or _prog(),
        description="Weak-to-strong generalization: reproduce the paper's experiments.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run one of the paper's experiments")
    exp = rep.add_subparsers(dest="experiment", required=True)
    for name, experiment in EXPERIMENTS.items():
        p = exp.add_parser(name, help=experiment.help or experiment.title)
        p.add_argument(
            "--out", default=f"results/{name}", help="output folder (%(default)s)"
        )
        p.add_argument("--seed", type=int, default=0, help="random seed (%(default)s)")
        p.add_argument("--quick", action="store_true", help="small sizes, for tests")
        p.add_argument("--quiet", action="store_true", help="no progress bars")
        for option in experiment.options:
            p.add_argument(
                option.flag,
                dest=option.dest,
                type=option.type,
                choices=option.choices,
                default=None,
                help=option.help,
            )
    return parser


#: What a ``--quick`` run is, said before it starts.
QUICK_NOTE = (
    "Quick run: small sizes that check that everything runs end to end; its "
    "numbers (slopes, picks, warnings) are not meant to be judged. Run "
    "without --quick for the paper's sizes."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a user error).

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
    """
    from .experiments import EXPERIMENTS, reproduce

    parser = build_parser()
    args = parser.parse_args(argv)
    experiment = EXPERIMENTS[args.experiment]
    options = {
        o.dest: getattr(args, o.dest)
        for o in experiment.options
        if getattr(args, o.dest) is not None
    }
    if args.quick:
        print(QUICK_NOTE)
    try:
        result = reproduce(
            args.experiment,
            out=args.out,
            quick=args.quick,
            random_state=args.seed,
            verbose=not args.quiet,
            **options,
        )
    except _USER_ERRORS as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(
            f"{parser.prog} reproduce {args.experiment}: error: {message}",
            file=sys.stderr,
        )
        return 2
    if "lines" in result:  # an experiment that runs itself says what to print
        print("\n".join(result["lines"]))
        return 0
    print(
        "Per panel: mean over tasks on the fresh evaluation sample, and the line "
        "of gain on misfit over tasks"
    )
    for panel, info in result["summary"]["panels"].items():
        ev, m = info["eval"], info["mean"]
        line = (
            f"{panel:>10}: weak {m['weak_error']:.4g}  strong "
            f"{m['strong_error']:.4g}  misfit {m['misfit']:.4g}  gain "
            f"{m['gain']:.4g}  bound {m['bound']:.4g} | "
            + (
                f"slope {ev['slope']:+.3f}  R² {ev['r2']:.3f}"
                # the one rule of skwtsg.metrics.fit_line, as in the figures
                if not math.isnan(ev["slope"])
                else f"no line ({ev['n_points']} points)"
            )
        )
        if "verdict" in info:
            line += "  " + ("agrees" if info["agrees_with_paper"] else "DIFFERS")
        if "selection" in info:
            sel = info["selection"]
            line += f"  pick {sel['pick']} (best {sel['best']})"
        print(line)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
