"""``import skwtsg`` stays light: the optional extras load only when used."""

import json
import subprocess
import sys

#: Modules of the optional extras (and dask) that ``import skwtsg`` must not
#: import: each costs seconds and is needed only by the parts that use it.
HEAVY = (
    "torch",
    "skorch",
    "matplotlib",
    "dask",
    "rdkit",
    "sentence_transformers",
    "transformers",
)


def _modules_after(statement):
    code = (
        f"import json, sys; {statement}; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_skwtsg_imports_no_optional_extra():
    assert _modules_after("import skwtsg") == []


def test_the_check_sees_an_imported_module():
    # the check can fail: a module under one of the names is seen
    assert _modules_after("import sys; sys.modules['dask'] = sys") == ["dask"]
