"""What the runner consumes: problems (W2SCase) and experiments (Experiment)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._roles import ROLES

__all__ = ["W2SCase", "ROLES", "Experiment", "Option", "comma_list", "positive_int"]

# Row roles understood by ``WeakToStrongRegressor.fit(..., roles=...)``:
# ``"weak"`` trains the weak model on true labels; ``"strong"`` rows are
# labelled by the weak model and train the strong head (their true labels, if
# any, are only used afterwards to measure the strong model's error on its
# training sample); ``"both"`` rows do both (the paper's molecular protocol,
# where weak labels are made on the weak model's own training inputs);
# ``"eval"`` rows are held out and every diagnostic is measured on them.


@dataclass
class W2SCase:
    """One weak-to-strong problem: rows with roles and candidate weak models.

    The runner fits, for each entry of ``weak_featurizers``,
    ``WeakToStrongRegressor(weak_featurizer, strong_featurizer, head=head,
    weak_head=weak_head).fit(X, y, roles=roles)`` and records the diagnostics
    of every task (column of ``y``).

    Parameters
    ----------
    name : str
        Identifies the case in outputs, e.g. ``"random122"`` or ``"2a"``.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Inputs of every row (all roles together).
    y : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        True labels; NaN is allowed on ``"strong"`` rows only.
    roles : ndarray of str of shape (n_samples,)
        One of :data:`ROLES` per row.
    strong_featurizer : transformer
        The strong representation ``h_s``.
    weak_featurizers : dict of str to transformer
        Candidate weak representations ``h_w``, keyed by a label used in
        tables and legends (e.g. ``"hidden=16"``).
    head, weak_head : estimator or None
        Heads passed to the weak-to-strong estimator.
    task_names : list of str or None
        Names of the columns of ``y``; default ``task0, task1, ...``.
    group : str
        Coarser grouping for tables and figures (e.g. the dataset name).
    meta : dict
        Anything else worth recording (sizes, seeds, notes). The runner
        reads ``"warnings"`` (a list of texts: the report marks the panel),
        ``"preparation"`` (a dict shared by the cases, e.g. how many weak
        models were pretrained: ``summary["preparation"]``),
        ``"torch_threads"`` (torch's thread count during the fits) and
        ``"nonconvex_head"`` and, for a classification case,
        ``"confidence_level"`` (then each record also has the paired
        bootstrap interval of every diagnostic and PGR on the evaluation
        rows, ``<name>_low`` and ``<name>_high``, and each PGR's
        ``_unstable`` flag and ``_message``; ``"n_resamples"`` sets the
        resamples, default 9999).
    kind : {"regression", "classification"}, default="regression"
        The estimator the runner fits: ``WeakToStrongRegressor`` (squared
        errors), or ``WeakToStrongClassifier`` (KL or log-loss errors, plus
        accuracies; ``y`` holds class labels or class probabilities).
    share_strong_fit : bool, default=False
        Declares that the strong side is the same for every weak model: the
        strong featurizer does not use its ``y`` (the weak labels). The
        runner then fits the weak featurizers first (in parallel processes
        with its ``n_jobs``) and all weak models of the case in one
        :class:`~skwtsg.model_selection.WeakSupervisorSearch` (the strong
        featurizer once, the strong head once on every weak model's labels
        when it fits each output on its own). The records are those of
        separate fits, to rounding. Needs a regression case with explicit
        ``roles``.
    ceiling_head : classifier or None, default=None
        The classifier's ``ceiling_head`` (classification cases only;
        ``None``: the estimator's default).
    weak_fit_cache : str, path-like or None, default=None
        With ``share_strong_fit``: a folder where the runner keeps the
        fitted weak featurizers (``joblib.Memory``), keyed by the
        featurizer's parameters, its training rows and labels, the torch
        thread count, the versions of Python, numpy, scikit-learn, joblib,
        torch and RDKit and the sha256 of the featurizer's source files; a
        fit found there is loaded (bitwise the same object) instead of
        refitted. ``None``: no cache.
    """

    name: str
    X: Any
    y: np.ndarray
    roles: np.ndarray
    strong_featurizer: Any
    weak_featurizers: dict[str, Any]
    head: Any = None
    weak_head: Any = None
    task_names: list[str] | None = None
    group: str = ""
    meta: dict = field(default_factory=dict)
    kind: str = "regression"
    share_strong_fit: bool = False
    weak_fit_cache: str | os.PathLike | None = None
    ceiling_head: Any = None


def comma_list(text: str) -> list[str]:
    """Parse a comma-separated command-line value: ``"a, b"`` -> ``["a", "b"]``.

    An empty list is an error (argparse prints it as a usage error): an
    option that names what to run must name something.

    Examples
    --------
    >>> comma_list("ESOL, Lipop,")
    ['ESOL', 'Lipop']
    """
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of names, got {text!r}"
        )
    return items


def positive_int(text: str) -> int:
    """Parse a count on the command line: a positive integer.

    0 is refused here (argparse prints it as a usage error) rather than read
    later as "the default" or as nothing to do: a count of epochs, steps,
    processes or rows of 0 is a mistake, not a request.

    Examples
    --------
    >>> positive_int("3")
    3
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


@dataclass(frozen=True)
class Option:
    """A command-line option of an experiment, passed on to its ``make_cases``.

    Parameters
    ----------
    flag : str
        The option, e.g. ``"--data-home"``; its value is passed as the keyword
        ``data_home`` (the flag without dashes, ``-`` read as ``_``), and only
        when given (otherwise ``make_cases``'s default holds).
    help : str
        One line for ``--help``.
    type : callable, default=str
        Converts the text (e.g. ``int``, :func:`comma_list`).
    choices : tuple or None, default=None
        Allowed values, checked by the command line.

    Examples
    --------
    >>> Option("--data-home", "data folder").dest
    'data_home'
    """

    flag: str
    help: str
    type: Callable[[str], Any] = str
    choices: tuple | None = None

    @property
    def dest(self) -> str:
        """Keyword of ``make_cases`` that receives the value."""
        return self.flag.lstrip("-").replace("-", "_")


#: The option of every experiment that reads files.
DATA_HOME = Option("--data-home", "data folder (or $SKWTSG_DATA)")


@dataclass
class Experiment:
    """A configuration of the runner: cases, claims, notes and CLI options.

    Each experiment module (``_synthetic.py``, ``_molecules.py``, ...)
    declares one and the registry lists it; the command line
    (``python -m skwtsg reproduce NAME``) is built from these fields, so a
    new experiment is one module plus one registry entry.

    Parameters
    ----------
    name : str
        Used by the command line (``python -m skwtsg reproduce NAME``).
    make_cases : callable
        ``make_cases(quick=..., random_state=..., **options)`` returning a
        list of :class:`W2SCase`; it also gets ``verbose=...`` when it
        declares that parameter. It validates its options (a ValueError
        naming the option).
    panel_by : {"group", "task"}, default="group"
        Which record column defines a panel (one figure, CSV and summary).
    selection : bool, default=False
        Whether each panel gets the paper's Tables 1-3 analogue (weak models
        ranked by mean bound).
    claims : dict, default={}
        Per panel, a dict with ``"text"`` (the paper's claim) and optionally
        ``"title"``, ``"check"`` (a callable ``summary -> (bool, str)`` that
        says whether our numbers agree) and ``"paper"`` (the paper's figures
        to show).
    title : str, default=""
        Title of the report.
    notes : list of str, default=[]
        Plain statements for the report (what differs from the paper's setup).
    help : str, default=""
        One line for the command line's list of experiments.
    options : tuple of Option, default=()
        The experiment's own command-line options.
    axis_titles : dict, default={}
        Axis titles of the figures overriding the squared-error ones, by
        column (``"misfit"``, ``"gain"``), e.g. for KL diagnostics.
    panel_summaries : dict, default={}
        Per panel, a callable ``records -> dict`` whose entries are added to
        that panel's summary (before its claim is checked), e.g. one line per
        case of a sweep.
    extra_figures : callable or None, default=None
        ``extra_figures(records, summary, out) -> list of paths``: figures
        beyond one gain-misfit plot per panel, written with the others.
    conclude : callable or None, default=None
        ``conclude(records) -> dict`` with ``"text"`` (the numbers it
        states) and optionally ``"verdict"`` and ``"agrees"``: the closing
        note of the report, computed from the run's records (pooled over
        panels); stored as ``summary["conclusion"]``. At ``--quick`` sizes
        the verdict is dropped (not judged).
    n_jobs : int or None, default=None
        Processes fitting the weak featurizers of the cases that share their
        strong fit (see ``W2SCase.share_strong_fit``); ``None`` is 1.
    run : callable or None, default=None
        An experiment that is not one weak-to-strong fit per case and weak
        model runs itself: ``run(out=..., quick=..., random_state=...,
        verbose=..., **options)`` replaces
        :func:`~skwtsg.experiments.run_experiment` and returns a dict with
        ``summary``, ``files`` and ``lines`` (what the command line prints).
    """

    name: str
    make_cases: Callable[..., list[W2SCase]]
    panel_by: str = "group"
    selection: bool = False
    claims: dict = field(default_factory=dict)
    title: str = ""
    notes: list = field(default_factory=list)
    help: str = ""
    options: tuple[Option, ...] = ()
    axis_titles: dict = field(default_factory=dict)
    panel_summaries: dict = field(default_factory=dict)
    extra_figures: Callable[..., list] | None = None
    conclude: Callable[[Any], dict] | None = None
    n_jobs: int | None = None
    run: Callable[..., dict] | None = None
