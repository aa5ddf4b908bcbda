"""Command line: ``python -m skwtsg reproduce {synthetic,molecules,essays}``."""

from __future__ import annotations

import argparse
import sys


def _csv(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m skwtsg",
        description="Weak-to-strong generalization: reproduce the paper's experiments.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run one of the paper's experiments")
    exp = rep.add_subparsers(dest="experiment", required=True)

    def common(p, default_out):
        p.add_argument("--out", default=default_out, help="output folder (%(default)s)")
        p.add_argument("--seed", type=int, default=0, help="random seed (%(default)s)")
        p.add_argument("--quick", action="store_true", help="small sizes, for tests")
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    syn = exp.add_parser("synthetic", help="Figures 2a-c, 3a-c and appendix D")
    common(syn, "results/synthetic")
    syn.add_argument(
        "--panels",
        type=_csv,
        default=None,
        help="comma-separated panels (default: all): "
        "2a,2b,2c,3a,3b,3c,D-tanh,D-relu,D-sigmoid",
    )
    syn.add_argument(
        "--heads",
        choices=["exact", "gradient"],
        default="exact",
        help="exact least squares (default) or the paper's Adam procedure",
    )
    syn.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs of the gradient heads (default: the paper's 1000)",
    )

    mol = exp.add_parser("molecules", help="Figures 2d-f and Tables 1-3")
    common(mol, "results/molecules")
    mol.add_argument("--data-home", default=None, help="data folder (or $SKWTSG_DATA)")
    mol.add_argument(
        "--datasets",
        type=_csv,
        default=None,
        help="comma-separated: ESOL,FreeSolv,Lipop (default: all)",
    )
    mol.add_argument(
        "--weak-family",
        choices=["transformer", "morgan"],
        default="transformer",
        help="weak representations (%(default)s)",
    )

    ess = exp.add_parser("essays", help="appendix C.1, Figure 5")
    common(ess, "results/essays")
    ess.add_argument("--data-home", default=None, help="data folder (or $SKWTSG_DATA)")
    ess.add_argument("--cache-dir", default=None, help="embedding cache folder")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .experiments import reproduce

    options = {}
    if args.experiment == "synthetic":
        if args.panels:
            options["panels"] = args.panels
        options.update(heads=args.heads, epochs=args.epochs)
    elif args.experiment == "molecules":
        if args.datasets:
            options["datasets"] = args.datasets
        options.update(data_home=args.data_home, weak_family=args.weak_family)
    elif args.experiment == "essays":
        options.update(data_home=args.data_home, cache_dir=args.cache_dir)
    if args.experiment == "synthetic" and args.panels:
        from .experiments import PANELS

        unknown = sorted(set(args.panels) - set(PANELS))
        if unknown:
            parser.error(f"unknown panels {unknown}; choose from {list(PANELS)}")
    result = reproduce(
        args.experiment,
        out=args.out,
        quick=args.quick,
        random_state=args.seed,
        verbose=not args.quiet,
        **options,
    )
    print(
        "Per panel: mean over tasks on the fresh evaluation sample, and the line "
        "of gain on misfit over tasks"
    )
    for panel, info in result["summary"]["panels"].items():
        ev, m = info["eval"], info["mean"]
        line = (
            f"{panel:>10}: weak {m['weak_error']:.4g}  strong "
            f"{m['strong_error']:.4g}  misfit {m['misfit']:.4g}  gain "
            f"{m['gain']:.4g}  bound {m['bound']:.4g} | slope "
            f"{ev['slope']:+.3f}  R² {ev['r2']:.3f}"
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
