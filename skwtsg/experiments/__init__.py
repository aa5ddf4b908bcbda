"""Reproductions of the paper's experiments: one runner, several configurations.

:func:`run_experiment` builds an experiment's cases (:class:`W2SCase`), fits a
:class:`~skwtsg.WeakToStrongRegressor` per case and weak model
(:func:`run_cases`), summarises each panel (:func:`summarize_panel`,
:func:`selection_table`) and writes CSV, PNG, ``summary.json`` and
``report.md``. The command line is ``python -m skwtsg reproduce NAME``.

Each experiment module (``_synthetic.py``, ``_molecules.py``, ``_essays.py``)
holds its whole configuration in one :class:`Experiment`: how to build its
cases, the paper's claims and how to check them, notes for the report and
its command-line :class:`Option` s. A new experiment is one such module plus
one entry in :data:`EXPERIMENTS`; the command line picks it up.
"""

from ._case import ROLES, Experiment, Option, W2SCase
from ._essays import make_essay_cases
from ._molecules import PAPER_TABLES, make_molecule_cases
from ._registry import EXPERIMENTS, reproduce
from ._runner import run_cases, run_experiment, theorem2_slack
from ._summary import (
    decomposition_summary,
    gain_misfit_fit,
    paired_selection,
    selection_table,
    summarize_panel,
)
from ._synthetic import PANELS, SWEEP, make_synthetic_cases
from ._tables import gain_misfit_inputs, selection_inputs

__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "Option",
    "PANELS",
    "PAPER_TABLES",
    "ROLES",
    "SWEEP",
    "W2SCase",
    "decomposition_summary",
    "gain_misfit_fit",
    "gain_misfit_inputs",
    "make_essay_cases",
    "make_molecule_cases",
    "make_synthetic_cases",
    "paired_selection",
    "reproduce",
    "run_cases",
    "run_experiment",
    "selection_table",
    "selection_inputs",
    "summarize_panel",
    "theorem2_slack",
]
