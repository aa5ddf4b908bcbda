"""Screenshot a built page in headless Chromium and check that its maths rendered.

Usage (``make docs-check`` runs it on the theory page)::

    python docs/check_rendered_maths.py docs/_build/html/user_guide/theory.html \
        docs/_build/screenshots/theory.png

Chromium loads the page from disk with the network off, lets MathJax run,
then (1) saves a screenshot to look at, and (2) reads the rendered page: it
must hold typeset formulas (``<mjx-container>`` elements) and no formula
left as raw TeX. Chromium comes from the system packages
(``apt-get install chromium`` on Debian). Exit status 0 when the maths
rendered, 1 when it did not, 2 on a usage error or without Chromium.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Long enough for MathJax to typeset a page of formulas on a busy machine;
# virtual time, so a fast machine does not wait for it.
VIRTUAL_TIME_MS = 20_000


def find_browser() -> str | None:
    """Path of the first Chromium-like browser on PATH, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _chromium(browser: str, profile: str, *args: str) -> subprocess.CompletedProcess:
    command = [
        browser,
        "--headless",
        "--no-sandbox",  # root in a container has no user namespace sandbox
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        # everything the page needs is on disk: refuse every host
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--virtual-time-budget={VIRTUAL_TIME_MS}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def rendered_maths(dom: str) -> tuple[int, list[str]]:
    """Typeset formulas in ``dom``, and raw TeX left in the maths markup.

    Sphinx wraps each formula in ``<span class="math ...">`` or
    ``<div class="math ...">`` as ``\\(...\\)`` / ``\\[...\\]``; MathJax
    replaces the delimited TeX with an ``<mjx-container>``.
    """
    typeset = len(re.findall(r"<mjx-container\b", dom))
    raw = re.findall(r'<(?:span|div) class="math[^"]*">\s*(\\[\[(][^<]{0,60})', dom)
    return typeset, raw


def check_page(page: Path, screenshot: Path, browser: str) -> tuple[int, list[str]]:
    """Screenshot ``page`` into ``screenshot``; return ``rendered_maths``."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        shot = _chromium(
            browser,
            profile,
            f"--screenshot={screenshot.resolve()}",
            "--window-size=1280,1800",
            "--hide-scrollbars",
            url,
        )
        if not screenshot.is_file():
            raise RuntimeError(f"Chromium wrote no screenshot:\n{shot.stderr}")
        dom = _chromium(browser, profile, "--dump-dom", url)
    if dom.returncode != 0 or "<html" not in dom.stdout:
        raise RuntimeError(f"Chromium could not read {page}:\n{dom.stderr}")
    return rendered_maths(dom.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="a built HTML page")
    parser.add_argument("screenshot", type=Path, help="PNG file to write")
    args = parser.parse_args(argv)
    if not args.page.is_file():
        print(f"error: no page {args.page}: build the docs first", file=sys.stderr)
        return 2
    browser = find_browser()
    if browser is None:
        print(
            "error: no Chromium on PATH (Debian: apt-get install chromium)",
            file=sys.stderr,
        )
        return 2
    typeset, raw = check_page(args.page, args.screenshot, browser)
    print(f"{args.page}: {typeset} formulas typeset, {len(raw)} left as raw TeX")
    print(f"screenshot: {args.screenshot}")
    if raw:
        print("raw TeX, first ones:", *raw[:3], sep="\n  ")
    return 0 if typeset and not raw else 1


if __name__ == "__main__":
    sys.exit(main())
