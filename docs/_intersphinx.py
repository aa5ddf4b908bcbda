"""Intersphinx inventories that never break an offline ``sphinx -W`` build.

Sphinx warns ("failed to reach any of the inventories") when an inventory
cannot be fetched, and ``-W`` turns that into an error. So ``conf.py`` does
not hand Sphinx a remote inventory it may not reach: each inventory is
downloaded here (all in parallel, short timeout) into a local cache, and
Sphinx reads the cached file. An inventory that cannot be downloaded and
was never cached is left out, with a note in the build log: links to that
project are then plain text, and the build still passes.

``SKWTSG_DOCS_OFFLINE=1`` skips the downloads (cached inventories are still
used).
"""

from __future__ import annotations

import os
import shutil
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: name -> documentation root; its inventory is ``<root>objects.inv``.
PROJECTS = {
    "python": "https://docs.python.org/3/",
    "sklearn": "https://scikit-learn.org/stable/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "pandas": "https://pandas.pydata.org/docs/",
    "torch": "https://docs.pytorch.org/docs/stable/",
}


def _download(url: str, target: Path, timeout: float) -> str | None:
    """Save ``url`` to ``target``; the error as text, or None on success."""
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            with open(partial, "wb") as out:
                shutil.copyfileobj(response, out)
        with open(partial, "rb") as saved:
            if not saved.readline().startswith(b"# Sphinx inventory version"):
                raise ValueError("not a Sphinx inventory")
        partial.replace(target)
    except Exception as exc:  # noqa: BLE001 - any failure means "not now"
        partial.unlink(missing_ok=True)
        return f"{type(exc).__name__}: {exc}"
    return None


def intersphinx_mapping(
    cache_dir: Path,
    projects: dict[str, str] = PROJECTS,
    *,
    offline: bool | None = None,
    timeout: float = 10.0,
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """``intersphinx_mapping`` over the cached inventories, and notes to log.

    Parameters
    ----------
    cache_dir : Path
        Folder of the cached inventories (``<name>-objects.inv``).
    projects : dict of str to str
        Name -> documentation root (ending in ``/``).
    offline : bool, default=None
        Skip the downloads; None reads ``SKWTSG_DOCS_OFFLINE``.
    timeout : float, default=10.0
        Seconds allowed for each download.

    Returns
    -------
    mapping : dict
        ``{name: (root, cached_inventory_path)}`` for every project with an
        inventory, fresh or cached earlier.
    notes : list of str
        One line per project left out or served from an old copy.
    """
    if offline is None:
        offline = os.environ.get("SKWTSG_DOCS_OFFLINE", "") not in ("", "0")
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    targets = {name: cache_dir / f"{name}-objects.inv" for name in projects}
    if offline:
        errors = dict.fromkeys(projects, "SKWTSG_DOCS_OFFLINE is set")
    else:
        with ThreadPoolExecutor(max_workers=max(len(projects), 1)) as pool:
            futures = {
                name: pool.submit(
                    _download, root + "objects.inv", targets[name], timeout
                )
                for name, root in projects.items()
            }
            errors = {name: future.result() for name, future in futures.items()}
    mapping, notes = {}, []
    for name, root in projects.items():
        cached = targets[name].is_file()
        if cached:
            mapping[name] = (root, str(targets[name]))
        if errors[name] is None:
            continue
        if cached:
            notes.append(
                f"intersphinx: {name} inventory not refreshed ({errors[name]}); "
                f"using the copy in {targets[name]}"
            )
        else:
            notes.append(
                f"intersphinx: {name} inventory unavailable ({errors[name]}); "
                f"links to {name} are left as plain text in this build"
            )
    return mapping, notes
