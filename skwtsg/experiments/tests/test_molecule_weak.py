"""The molecule experiment's pretrained weak models: dispatch and stored rows."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import FunctionTransformer

from skwtsg.experiments._molecule_weak import (
    StoredEmbeddings,
    _balanced_groups,
    _pretrain_cost,
)


def test_one_task_per_worker_of_balanced_cost():
    # loky restarts a worker whose memory grew by 300 MB after its first
    # task (and warns "A worker stopped ... memory leak"): each worker gets
    # exactly one task, its whole group of sizes
    sizes = [8, 12, 16, 24, 32, 48, 64, 96]
    labels = [f"hidden={k}" for k in sizes]
    costs = [_pretrain_cost(k) for k in sizes]
    groups = _balanced_groups(labels, costs, 2)
    assert len(groups) == 2
    assert sorted(sum(groups, [])) == sorted(labels)

    def cost(group):
        return sum(_pretrain_cost(int(label.split("=")[1])) for label in group)

    assert abs(cost(groups[0]) - cost(groups[1])) <= _pretrain_cost(96)
    assert _balanced_groups(labels[:1], costs[:1], 2) == [labels[:1]]
    assert _balanced_groups([], [], 2) == []


def test_stored_embeddings_transform_only_unknown_rows():
    calls = []

    def lengths(X):
        calls.append(len(X))
        return np.array([[len(s)] for s in np.asarray(X).ravel()], dtype=float)

    stored = StoredEmbeddings(
        FunctionTransformer(lengths).fit([["C"]]),
        ["CCO", "CCN"],
        np.array([[-1.0], [-2.0]]),
    )
    Z = stored.transform(np.array([["CCN"], ["CCCC"], ["CCO"]], dtype=object))
    np.testing.assert_array_equal(Z.ravel(), [-2.0, 4.0, -1.0])
    assert calls == [1]  # the one unknown SMILES
    stored.transform(np.array([["CCO"]], dtype=object))
    assert calls == [1]
