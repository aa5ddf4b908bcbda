"""The ELLIPSE corpus of English-learner essays (test half), scored on seven rubrics.

The file ``text/ELLIPSE_test_scores.csv.gz`` of the data home is rebuilt, when
missing, from the upstream zip archive at a fixed commit (downloaded, checked,
decrypted with the password the upstream README publishes, cut and
compressed).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._utils._fetch import write_atomically
from .._utils._validation import check_bool
from ._base import (
    RemoteFileMetadata,
    _missing_message,
    fetch_file,
    get_data_home,
    sha256sum,
)

__all__ = ["fetch_ellipse", "ELLIPSE_RUBRICS", "ELLIPSE_TARGETS"]

#: Upstream snapshot the file comes from.
ELLIPSE_COMMIT = "b5f4469611d2596810d31d1a60921e54ce97ad07"

#: The six analytic rubrics (the Kaggle Feedback Prize ELL targets).
ELLIPSE_RUBRICS = (
    "Cohesion",
    "Syntax",
    "Vocabulary",
    "Phraseology",
    "Grammar",
    "Conventions",
)
#: Columns of ``target``: the holistic score, then the six rubrics.
ELLIPSE_TARGETS = ("Overall",) + ELLIPSE_RUBRICS

#: The file the loader reads, as distributed in ``shared/data``.
ELLIPSE_FILE = RemoteFileMetadata(
    filename="text/ELLIPSE_test_scores.csv.gz",
    url=None,  # rebuilt from _ZIP, see _build_from_zip
    sha256="e27eb88206244987301a43832cf670c97b2cea679d53cca10009d62f0e1a93f7",
)
#: sha256 of the *uncompressed* bytes of ELLIPSE_FILE: a rebuilt file (whose
#: gzip stream may differ with another zlib) is accepted by it.
_CONTENT_SHA256 = "c31b47fd0575362efd91b6b5356008c5fb026fb50740b4968af3092f57818cb2"

_ZIP = RemoteFileMetadata(
    filename="text/ELLIPSE_Final_github_test.zip",
    url=(
        "https://raw.githubusercontent.com/scrosseye/ELLIPSE-Corpus/"
        f"{ELLIPSE_COMMIT}/ELLIPSE_Final_github_test.zip"
    ),
    sha256="9ecddfcda83f6a99c8a24dda47fb1c30673fedeaf578a0fadac6645fd151a2f8",
)
_ZIP_MEMBER = "ELLIPSE_Final_github_test.csv"
_ZIP_PASSWORD = b"ellipse_test"  # published in the upstream README
_CSV_SHA256 = "7e990c6392a9df9554d15bdd22f0b568d19095cd6676ad39cb1eaa69c977ed7a"
_N_ROWS = 2571
_N_UPSTREAM_COLUMNS = 26
_COLUMNS = ("text_id_kaggle", "prompt", "task", "full_text") + ELLIPSE_TARGETS

_CITATION = (
    "Crossley, S. A., Tian, Y., Baffour, P., Franklin, A., Kim, Y., Morris, W., "
    "Benner, B., Picou, A., & Boser, U. (2023). Measuring second language "
    "proficiency using the English Language Learner Insight, Proficiency and "
    "Skills Evaluation (ELLIPSE) Corpus. International Journal of Learner "
    "Corpus Research, 9(2), 248-269."
)

_DESCR = f"""\
.. _ellipse_dataset:

ELLIPSE essay-scoring dataset (test half)
-----------------------------------------

**Data Set Characteristics:**

:Number of Instances: 2571 essays
:Number of Targets: 7 scores, each from 1.0 to 5.0 in steps of 0.5:
    Overall (holistic), Cohesion, Syntax, Vocabulary, Phraseology, Grammar,
    Conventions
:Other columns: ``prompt`` (44 distinct writing prompts), ``ids`` (the
    Kaggle text id, a string)
:Essay length: 155 to 6024 characters (median 2151)

Argumentative essays written by English Language Learners in grades 8-12
(the English Language Learner Insight, Proficiency and Skills Evaluation
corpus), each scored by trained raters. The six analytic rubrics are the six
targets of Kaggle's "Feedback Prize - English Language Learning" (2022).

This is the **test half** of the ELLIPSE corpus, from
github.com/scrosseye/ELLIPSE-Corpus (commit {ELLIPSE_COMMIT}, file
``ELLIPSE_Final_github_test.zip``). It is *not* the data of appendix C.1 of
Charikar et al. (2024), which used Kaggle's ``train.csv`` (3911 essays, the
corpus's train half, scored the same way) split 70/30 at random; split this
set 70/30 at random to mirror it
(:func:`skwtsg.experiments.make_essay_cases` does).

Changes from upstream: decrypted from the zip (ZipCrypto, password
``ellipse_test`` as published in the upstream README) and cut to the columns
``text_id_kaggle, prompt, task, full_text, Overall, Cohesion, Syntax,
Vocabulary, Phraseology, Grammar, Conventions``; the demographic fields
(gender, race_ethnicity, SES, grade), the precomputed lexical statistics and
``set`` were dropped. Rows and cell text are unchanged. ``task`` is
"Independent" for every essay.

License: "The data is provided under a CC BY-NC-SA 4.0 DEED
Attribution-NonCommercial-ShareAlike 4.0 International license" (upstream
README): attribution, non-commercial use only, share-alike. Files derived
from it stay under that license.

.. rubric:: References

* {_CITATION}
* Charikar, M., Pabbaraju, C. & Shiragur, K. (2024). Quantifying the Gain in
  Weak-to-Strong Generalization. NeurIPS 2024 (appendix C.1).
"""


def fetch_ellipse(
    *,
    data_home: str | os.PathLike | None = None,
    as_frame: bool = False,
    download_if_missing: bool = True,
) -> Bunch:
    """Load the ELLIPSE essay-scoring dataset (test half, 2571 essays).

    Essays by English Language Learners, each with a holistic score and six
    analytic scores (1.0-5.0 in steps of 0.5). Read :attr:`DESCR` of the
    result for the source, the changes made and the license
    (CC BY-NC-SA 4.0: non-commercial use only).

    =================   ==============
    Samples             2571
    Targets             7 (Overall + 6 rubrics)
    Features            1 (text)
    =================   ==============

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``text/ELLIPSE_test_scores.csv.gz``; see
        :func:`skwtsg.datasets.get_data_home`.
    as_frame : bool, default=False
        Also return the whole table as a pandas DataFrame in ``frame``.
    download_if_missing : bool, default=True
        If the file is missing, rebuild it from the upstream zip archive
        (downloaded from GitHub unless ``text/ELLIPSE_Final_github_test.zip``
        is already in the data home). If False, raise instead.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of object of shape (2571,)
            The essays, as Python ``str`` objects.
        target : ndarray of shape (2571, 7), dtype float64
            Scores, in the order of ``target_names``.
        target_names : list of str
            ``["Overall", "Cohesion", "Syntax", "Vocabulary", "Phraseology",
            "Grammar", "Conventions"]``.
        prompt : ndarray of str of shape (2571,)
            The writing prompt of each essay (44 distinct).
        ids : ndarray of str of shape (2571,)
            The Kaggle text id of each essay.
        frame : DataFrame of shape (2571, 11)
            Only when ``as_frame=True``: every column of the file.
        DESCR : str
            Description of the dataset.

    Raises
    ------
    FileNotFoundError
        The file is missing and could not be rebuilt; the message says where
        to put it.
    OSError
        The file, the archive or its CSV does not match its checksum.

    See Also
    --------
    skwtsg.experiments.make_essay_cases : The essay-scoring experiment.

    Examples
    --------
    >>> from skwtsg.datasets import fetch_ellipse
    >>> essays = fetch_ellipse()  # doctest: +SKIP
    >>> essays.target.shape  # doctest: +SKIP
    (2571, 7)
    """
    check_bool(as_frame, "as_frame")
    check_bool(download_if_missing, "download_if_missing")
    path = _ellipse_path(data_home, download_if_missing)
    frame = pd.read_csv(
        path,
        dtype={"text_id_kaggle": str, "prompt": str, "task": str, "full_text": str},
        keep_default_na=False,
    )
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:  # pragma: no cover - the checksum makes this unreachable
        raise OSError(f"{path} lacks the columns {missing}.")
    frame = frame[list(_COLUMNS)]
    for col in ELLIPSE_TARGETS:
        frame[col] = frame[col].astype(np.float64)
    bunch = Bunch(
        data=frame["full_text"].to_numpy(dtype=object),
        target=frame[list(ELLIPSE_TARGETS)].to_numpy(dtype=np.float64),
        target_names=list(ELLIPSE_TARGETS),
        prompt=frame["prompt"].to_numpy(dtype=str),
        ids=frame["text_id_kaggle"].to_numpy(dtype=str),
        DESCR=_DESCR,
    )
    if as_frame:
        bunch.frame = frame
    return bunch


def _content_sha256(path) -> str | None:
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except (OSError, EOFError):  # not gzip, or truncated
        return None
    return digest.hexdigest()


def _ellipse_path(data_home, download_if_missing) -> Path:
    home = get_data_home(data_home)
    path = home / ELLIPSE_FILE.filename
    if path.exists():
        if sha256sum(path) == ELLIPSE_FILE.sha256 or (
            _content_sha256(path) == _CONTENT_SHA256
        ):
            return path
        raise OSError(
            f"{path} has sha256 {sha256sum(path)}, expected "
            f"{ELLIPSE_FILE.sha256} (or uncompressed content with sha256 "
            f"{_CONTENT_SHA256}). The file is corrupt or another version: "
            "delete it to rebuild it."
        )
    hint = (
        f"It can also be rebuilt from the upstream archive {_ZIP.url} "
        f"(sha256 {_ZIP.sha256}): put that zip at {home / _ZIP.filename} and "
        "call again with download_if_missing=True."
    )
    if not download_if_missing:
        raise FileNotFoundError(_missing_message(ELLIPSE_FILE, path, hint))
    zip_path = home / _ZIP.filename
    had_zip = zip_path.exists()
    try:
        fetch_file(_ZIP, home, download_if_missing=True)
    except FileNotFoundError as exc:
        message = _missing_message(ELLIPSE_FILE, path, hint)
        raise FileNotFoundError(f"{message} ({exc})") from exc
    try:
        _build_from_zip(zip_path, path)
    finally:
        if not had_zip and zip_path.exists():
            zip_path.unlink()  # we downloaded it only to build the file
    return path


def _build_from_zip(zip_path, out_path) -> None:
    """Decrypt, check, cut and gzip the upstream CSV into ``out_path``."""
    with zipfile.ZipFile(zip_path) as zf:
        names = [
            n
            for n in zf.namelist()
            if n.rsplit("/", 1)[-1] == _ZIP_MEMBER and not n.startswith("__MACOSX")
        ]
        if not names:
            raise OSError(f"{zip_path} has no member {_ZIP_MEMBER!r}.")
        raw = zf.read(names[0], pwd=_ZIP_PASSWORD)
    actual = hashlib.sha256(raw).hexdigest()
    if actual != _CSV_SHA256:
        raise OSError(
            f"{_ZIP_MEMBER} in {zip_path} has sha256 {actual}, expected {_CSV_SHA256}."
        )
    content = _cut_columns(raw)
    actual = hashlib.sha256(content).hexdigest()
    if actual != _CONTENT_SHA256:
        raise OSError(
            f"The columns cut from {_ZIP_MEMBER} (whose checksum matched) have "
            f"sha256 {actual}, expected {_CONTENT_SHA256}: this version of "
            f"skwtsg does not rebuild the file exactly. Put the distributed "
            f"file at {out_path} instead."
        )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    packed = gzip.compress(content, compresslevel=9, mtime=0)
    write_atomically(out_path, lambda tmp: tmp.write_bytes(packed))


def _cut_columns(raw: bytes) -> bytes:
    """Keep the 11 columns of the distributed file; cell text is unchanged."""
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise OSError(f"The upstream CSV lacks the columns {missing}.")
    idx = [header.index(c) for c in _COLUMNS]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([row[i] for i in idx])
    return out.getvalue().encode("utf-8")
