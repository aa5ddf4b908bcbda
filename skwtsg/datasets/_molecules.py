"""MoleculeNet regression sets (ESOL, FreeSolv, Lipophilicity) with ChemBench splits.

The QSAR tasks of section 5.2 of the paper, with ChemBench's three random
80/10/10 splits; the files (``molecules/<name>.csv`` and
``molecules/<name>_splits.csv`` under the data home) are rebuilt by
:mod:`skwtsg.datasets._chembench` when missing.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._utils._validation import check_bool
from ._base import get_data_home
from ._chembench import (
    _PARTS,
    CHEMBENCH_COMMIT,
    MOLECULE_SPLIT_SEEDS,
    _fetch_data_file,
    _fetch_splits_file,
    _MoleculeSet,
)

__all__ = [
    "fetch_molecules",
    "fetch_esol",
    "fetch_freesolv",
    "fetch_lipophilicity",
    "MOLECULE_DATASETS",
    "MOLECULE_SPLIT_SEEDS",
]

_MOLECULENET = (
    "Wu, Z., Ramsundar, B., Feinberg, E. N., Gomes, J., Geniesse, C., Pappu, "
    "A. S., Leswing, K. & Pande, V. (2018). MoleculeNet: a benchmark for "
    "molecular machine learning. Chem. Sci. 9, 513-530. arXiv:1703.00564."
)
_CHEMBENCH = (
    "Shen, W. (2020). ChemBench: The molecule benchmarks and MolMapNet "
    f"datasets. github.com/shenwanxiang/ChemBench (commit {CHEMBENCH_COMMIT})."
)
_CHEMBENCH_LICENCE = (
    "The ChemBench repository is under the MIT License text (its copyright "
    "line is the unedited 'The Python Packaging Authority' template). "
    "DeepChem distributes the MoleculeNet CSVs under MIT."
)

MOLECULE_DATASETS: dict[str, _MoleculeSet] = {
    "ESOL": _MoleculeSet(
        name="ESOL",
        title="ESOL (Delaney) aqueous solubility",
        target_column="measured log solubility in mols per litre",
        target_description="log10 of the aqueous solubility in mol/L",
        data_file="molecules/ESOL.csv",
        data_sha256="47102194cc8d6144488d5abdf285c4fb1a55b9c8789a7154c24735c4a7bcbd79",
        upstream_gz_sha256=(
            "3eb977a01fd9cf0404f95602aaf80172a167b3c61ab846382c87d655cf7b8e89"
        ),
        splits_sha256=(
            "1ad09089bf868fcb4674816fb12e720ecaff95f73c36173b3d481cf74a8d6ccb"
        ),
        pickle_sha256={
            122: "ebac56b86a6cad416aec254c1c30c7733409998807033c080b01a49453a2b283",
            123: "e48b49761171b8358734d8b1881090bb60811b09ee04aee24313df2d3c328080",
            124: "07591375f16b39609622fd879db3300692bcd70886d5e9bebee4f0fc68f8f1b9",
        },
        sizes=(902, 113, 113),
        citation=(
            "Delaney, J. S. (2004). ESOL: estimating aqueous solubility directly "
            "from molecular structure. J. Chem. Inf. Comput. Sci. 44, 1000-1005."
        ),
        licence=_CHEMBENCH_LICENCE,
    ),
    "FreeSolv": _MoleculeSet(
        name="FreeSolv",
        title="FreeSolv hydration free energy",
        target_column="expt",
        target_description="experimental hydration free energy in kcal/mol",
        data_file="molecules/FreeSolv.csv",
        data_sha256="dc2846c7ab9faf0ed44294dc09413908f1fc638ff2a990d89a2ea4a10fd84a6e",
        upstream_gz_sha256=(
            "46f3df3dbfc65282bdbe01d9d653c625fb8db4ea9528e39c75e8837e04a9ca5a"
        ),
        splits_sha256=(
            "b9f77a2029d76ed7c2d04660134e8be95b186a0ed181366259f84677d80a719c"
        ),
        pickle_sha256={
            122: "8a93ced2f63e6c794348ee0de4e6bb64b2d9b96e8c7c1c7322c75f1d5d545942",
            123: "307655abc9cf4b39bc5681d28b8601e8af1f51dc51bd09960e3de1718a5e3b07",
            124: "7fa0e2e0e3bec941013badd2f4c1a9f46decf328171a6baa44a2829ebf32cb5f",
        },
        sizes=(513, 64, 65),
        citation=(
            "Mobley, D. L. & Guthrie, J. P. (2014). FreeSolv: a database of "
            "experimental and calculated hydration free energies, with input "
            "files. J. Comput.-Aided Mol. Des. 28, 711-720."
        ),
        licence=_CHEMBENCH_LICENCE
        + " The MobleyLab/FreeSolv repository names no licence and asks users "
        "to cite it.",
    ),
    "Lipop": _MoleculeSet(
        name="Lipop",
        title="Lipophilicity (AstraZeneca ChEMBL deposition)",
        target_column="exp",
        target_description="octanol/water distribution coefficient logD at pH 7.4",
        data_file="molecules/Lipop.csv.gz",
        data_sha256="34280f0adde234bcf477bd98878c9918c9ea51ed859c9efdc31917c6e5ecd758",
        upstream_gz_sha256=(
            "34280f0adde234bcf477bd98878c9918c9ea51ed859c9efdc31917c6e5ecd758"
        ),
        splits_sha256=(
            "93aa09dcd3abef82fc4e7893f04fad7dd449272327856f5cc2170b2130d1cf4b"
        ),
        pickle_sha256={
            122: "bf7acb177e080caf2be9ee220f479f8ea91e0039ff4867a7281753a2fce24a7d",
            123: "afaed4c6d95b64ac64e8fb760b6de516802008965befe1601b3664303119a0e8",
            124: "2b48a41ccc39b622bbb74f18331ca9d9513190eec2de29144ce2bc7d47ef7ef3",
        },
        sizes=(3360, 420, 420),
        citation=(
            "AstraZeneca (2015). Experimental in vitro DMPK and physicochemical "
            "data on a set of publicly disclosed compounds. ChEMBL deposition "
            "CHEMBL3301361."
        ),
        licence=_CHEMBENCH_LICENCE
        + " The data come from ChEMBL, which is licensed CC BY-SA 3.0.",
    ),
}

_ALIASES = {"lipophilicity": "Lipop", "delaney": "ESOL", "sampl": "FreeSolv"}


def _resolve_name(name) -> _MoleculeSet:
    if isinstance(name, str):
        for key in MOLECULE_DATASETS:
            if key.lower() == name.lower():
                return MOLECULE_DATASETS[key]
        if name.lower() in _ALIASES:
            return MOLECULE_DATASETS[_ALIASES[name.lower()]]
    raise ValueError(
        f"Unknown molecule dataset name={name!r}; valid names are "
        f"{sorted(MOLECULE_DATASETS)} (also accepted: {sorted(_ALIASES)})."
    )


def _check_split(split):
    if split is None:
        return None
    if (
        isinstance(split, (int, np.integer))
        and not isinstance(split, bool)
        and int(split) in MOLECULE_SPLIT_SEEDS
    ):
        return int(split)
    raise ValueError(
        f"split must be None or one of {list(MOLECULE_SPLIT_SEEDS)} (the seeds of "
        f"ChemBench's random splits); got split={split!r}."
    )


# ---------------------------------------------------------------------------
# Public loaders
# ---------------------------------------------------------------------------


def _descr(spec: _MoleculeSet, n_rows: int) -> str:
    n_train, n_valid, n_test = spec.sizes
    title = f"{spec.name}: {spec.title}"
    return "\n".join(
        [
            title,
            "=" * len(title),
            "",
            f"{n_rows} molecules given as SMILES strings; the target is the "
            f"{spec.target_description} (column {spec.target_column!r}).",
            "",
            "Splits: ChemBench's three random train/valid/test splits (seeds "
            f"122, 123, 124), {n_train}/{n_valid}/{n_test} molecules each, "
            "following MoleculeNet's 80/10/10 random split.",
            "",
            "Source: MoleculeNet as distributed by DeepChem, curated by ChemBench "
            f"(github.com/shenwanxiang/ChemBench, commit {CHEMBENCH_COMMIT}). "
            "Trailing spaces of the SMILES strings are stripped; nothing else is "
            "changed.",
            "",
            f"Licence: {spec.licence}",
            "",
            "Please cite:",
            f"- {spec.citation}",
            f"- {_MOLECULENET}",
            f"- {_CHEMBENCH}",
            "- Used in: Charikar, M., Pabbaraju, C. & Shiragur, K. (2024). "
            "Quantifying the Gain in Weak-to-Strong Generalization. NeurIPS.",
        ]
    )


def fetch_molecules(
    name: str,
    *,
    data_home: str | os.PathLike | None = None,
    split: int | None = None,
    as_frame: bool = False,
    download_if_missing: bool = True,
) -> Bunch:
    """Load a MoleculeNet regression set (ESOL, FreeSolv or Lipop) with its splits.

    =================   ========================  =========================
    name                rows (train/valid/test)   target
    =================   ========================  =========================
    ``"ESOL"``          1128 (902/113/113)        log solubility (mol/L)
    ``"FreeSolv"``      642 (513/64/65)           hydration free energy
    ``"Lipop"``         4200 (3360/420/420)       logD at pH 7.4
    =================   ========================  =========================

    SMILES are returned as strings, not parsed.

    Parameters
    ----------
    name : {"ESOL", "FreeSolv", "Lipop"}
        The dataset (case-insensitive; ``"Lipophilicity"`` is accepted).
    data_home : str or path-like, default=None
        Folder holding ``molecules/``; see
        :func:`skwtsg.datasets.get_data_home`.
    split : {None, 122, 123, 124}, default=None
        Seed of one of ChemBench's random splits; when given, the result also
        holds ``train_mask``, ``valid_mask`` and ``test_mask``.
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame and ``frame`` holds every column.
    download_if_missing : bool, default=True
        If False, a missing file raises ``FileNotFoundError`` instead of being
        downloaded from ChemBench.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with:

        smiles : ndarray of str of shape (n_samples,)
            SMILES strings (object dtype), trailing spaces stripped.
        data : ndarray of shape (n_samples, 1) or DataFrame
            The SMILES as a one-column 2-D input for estimators.
        target : ndarray of float64 of shape (n_samples,)
            The property to predict.
        feature_names : list of str
            ``["smiles"]``.
        target_names : list of str
            Name of the target column in the file.
        splits : dict of int to ndarray of str
            For each seed (122, 123, 124), ``"train"``, ``"valid"`` or
            ``"test"`` per row.
        train_mask, valid_mask, test_mask : ndarray of bool
            Only when ``split`` is given: the rows of that split's parts.
        frame : DataFrame
            Only when ``as_frame=True``: columns ``smiles``, ``target``,
            ``random122``, ``random123``, ``random124`` and, when ``split`` is
            given, ``split``.
        DESCR : str
            Source, licence and citations.
        filename : str
            Path of the data file read.

    Raises
    ------
    FileNotFoundError
        If a file is missing and cannot be downloaded; the message says
        where to put it.
    OSError
        If a file does not match its sha256.

    See Also
    --------
    fetch_esol, fetch_freesolv, fetch_lipophilicity

    Examples
    --------
    >>> from skwtsg.datasets import fetch_molecules
    >>> esol = fetch_molecules("ESOL", split=122)  # doctest: +SKIP
    >>> esol.smiles[esol.train_mask].shape  # doctest: +SKIP
    (902,)
    """
    spec = _resolve_name(name)
    split = _check_split(split)
    check_bool(as_frame, "as_frame")
    check_bool(download_if_missing, "download_if_missing")
    home = get_data_home(data_home)
    data_path = _fetch_data_file(spec, home, download_if_missing)
    df = pd.read_csv(data_path)
    missing = {"smiles", spec.target_column} - set(df.columns)
    if missing:
        raise ValueError(f"{data_path} lacks the column(s) {sorted(missing)}.")
    n_rows = len(df)
    splits_path = _fetch_splits_file(spec, home, n_rows, download_if_missing)
    sp = pd.read_csv(splits_path)
    if len(sp) != n_rows or not np.array_equal(sp["row"].to_numpy(), np.arange(n_rows)):
        raise ValueError(f"{splits_path} does not match the rows of {data_path}.")

    smiles = np.array([str(s).strip() for s in df["smiles"]], dtype=object)
    target = df[spec.target_column].to_numpy(dtype=np.float64)
    splits = {
        seed: sp[f"random{seed}"].to_numpy(dtype=object)
        for seed in MOLECULE_SPLIT_SEEDS
    }
    bunch = Bunch(
        smiles=smiles,
        data=smiles.reshape(-1, 1),
        target=target,
        feature_names=["smiles"],
        target_names=[spec.target_column],
        splits=splits,
        DESCR=_descr(spec, n_rows),
        filename=str(data_path),
    )
    if split is not None:
        for part in _PARTS:
            bunch[f"{part}_mask"] = splits[split] == part
    if as_frame:
        frame = pd.DataFrame({"smiles": smiles, "target": target})
        for seed in MOLECULE_SPLIT_SEEDS:
            frame[f"random{seed}"] = splits[seed]
        if split is not None:
            frame["split"] = splits[split]
        bunch.frame = frame
        bunch.data = frame[["smiles"]]
    return bunch


def _make_fetcher(name: str, public_name: str):
    # A thin named wrapper around fetch_molecules: one docstring per set.
    def fetcher(
        *,
        data_home: str | os.PathLike | None = None,
        split: int | None = None,
        as_frame: bool = False,
        download_if_missing: bool = True,
    ) -> Bunch:
        return fetch_molecules(
            name,
            data_home=data_home,
            split=split,
            as_frame=as_frame,
            download_if_missing=download_if_missing,
        )

    fetcher.__name__ = fetcher.__qualname__ = public_name
    return fetcher


_FETCHER_DOC = """Load the {title} set ({name}) with ChemBench's splits.

    {n} molecules, {sizes} train/valid/test for each of the three random
    splits (seeds 122, 123, 124). Same as ``fetch_molecules("{name}", ...)``;
    see :func:`fetch_molecules` for the returned fields.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``molecules/``.
    split : {{None, 122, 123, 124}}, default=None
        Seed of one of ChemBench's random splits; adds ``train_mask``,
        ``valid_mask`` and ``test_mask``.
    as_frame : bool, default=False
        Also return a DataFrame ``frame``; ``data`` becomes a DataFrame.
    download_if_missing : bool, default=True
        If False, a missing file raises ``FileNotFoundError``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``smiles``, ``data``, ``target``, ``target_names``, ``splits``,
        ``DESCR``, ``filename`` (and the masks / ``frame`` on request).

    See Also
    --------
    fetch_molecules

    Examples
    --------
    >>> from skwtsg.datasets import {public}
    >>> ds = {public}(split=122)  # doctest: +SKIP
    >>> int(ds.test_mask.sum())  # doctest: +SKIP
    {n_test}
    """

fetch_esol = _make_fetcher("ESOL", "fetch_esol")
fetch_freesolv = _make_fetcher("FreeSolv", "fetch_freesolv")
fetch_lipophilicity = _make_fetcher("Lipop", "fetch_lipophilicity")
for _f, _key in (
    (fetch_esol, "ESOL"),
    (fetch_freesolv, "FreeSolv"),
    (fetch_lipophilicity, "Lipop"),
):
    _s = MOLECULE_DATASETS[_key]
    _f.__doc__ = _FETCHER_DOC.format(
        title=_s.title,
        name=_key,
        n=sum(_s.sizes),
        sizes="/".join(map(str, _s.sizes)),
        public=_f.__name__,
        n_test=_s.sizes[2],
    )
    _f.__module__ = __name__
del _f, _key, _s
