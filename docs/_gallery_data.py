"""Which gallery examples read data files, and which of them can run.

The examples below read files from the data folder
(:func:`skwtsg.datasets.get_data_home`: ``$SKWTSG_DATA``, else
``~/skwtsg_data``). A documentation build without those files leaves them
out of the gallery instead of failing; set ``SKWTSG_DATA`` to a folder that
holds them (``SKWTSG_DATA=/path/to/data make docs``) to include them.
"""

from __future__ import annotations

import re
from pathlib import Path

#: Each data-reading example (relative to ``examples/``) and the files it
#: reads (relative to the data folder).
NEEDS_DATA = {
    "molecules/plot_choose_weak_supervisor_esol.py": (
        "molecules/ESOL.csv",
        "molecules/ESOL_splits.csv",
    ),
    "text/plot_essay_scoring.py": ("text/ELLIPSE_test_scores.csv.gz",),
}


def examples_without_data(data_home: str | Path) -> list[str]:
    """The examples of ``NEEDS_DATA`` whose files are not in ``data_home``."""
    home = Path(data_home)
    return [
        example
        for example, files in NEEDS_DATA.items()
        if not all((home / name).is_file() for name in files)
    ]


def ignore_pattern(base: str, examples: list[str]) -> str:
    """sphinx-gallery's ``ignore_pattern``: ``base`` or any of ``examples``.

    sphinx-gallery matches it against each file's name, without its folder
    (the gallery's file names are unique: it checks so).
    """
    if not examples:
        return base
    names = "|".join(re.escape(Path(example).name) for example in examples)
    return rf"{base}|^({names})$"
