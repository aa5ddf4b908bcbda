"""
====================================================================
Essay scoring: truncated encoders and TF-IDF teachers for mpnet
====================================================================

Charikar, Pabbaraju and Shiragur (2024), *Quantifying the Gain in
Weak-to-Strong Generalization*, appendix C.1: essays by English Language
Learners are scored on six rubrics (cohesion, syntax, vocabulary,
phraseology, grammar, conventions), each rubric a regression task. A weak
model is fitted on the true scores of 70% of the essays; it then labels the
same essays, and a strong model is fitted on those weak labels only. The
held-out 30% measure each model's error and the misfit between them.

The paper used Kaggle's Feedback Prize ELL ``train.csv``, bert-base-uncased
as the strong representation and miniature BERTs as weak ones. Here: the test
half of the same corpus (ELLIPSE, 2571 essays, the same rubrics), the
mean-pooled hidden state of layer 8 of all-mpnet-base-v2 (a bert-base-sized
encoder) as the strong representation, and as weak ones the shallow layers 0,
1, 2 and 4 of the same encoder, TF-IDF + truncated SVD with ``k`` components
and all-MiniLM-L6-v2's sentence embedding. Both heads are exact ridge with
alpha chosen by leave-one-out on the labels each head sees.

To stay fast, this example uses ``quick=True`` with one split: a fixed subset
of 200 essays cut to 128 tokens and the two smallest TF-IDF models. The full
experiment (``python -m skwtsg reproduce essays``) uses all 2571 essays, 384
tokens, k = 8, 16, ..., 256 and three random splits.
"""

# %%
# The data
# --------
# :func:`~skwtsg.datasets.fetch_ellipse` reads the essays and their seven
# scores (Overall plus the six rubrics); its ``DESCR`` gives the source, the
# changes made and the licence (CC BY-NC-SA 4.0: non-commercial use only).
from skwtsg.datasets import fetch_ellipse

essays = fetch_ellipse()
print(essays.data.shape, essays.target.shape)
print(essays.target_names)
print(essays.data[0][:300], "...")

# %%
# The experiment's case
# ---------------------
# One case holds every row with its role (``"both"``: trains the weak model
# and, with the weak labels, the strong head; ``"eval"``: held out), the six
# rubrics as tasks, the strong featurizer and the weak ones. The
# featurizers cache the embeddings on disk (by default under
# ``~/.cache/skwtsg/embeddings``): one pass through the encoder fills every
# layer's cache, and only the first run embeds the essays.
from skwtsg.experiments import make_essay_cases

(case,) = make_essay_cases(quick=True, n_splits=1, random_state=0)
print(case.X.shape, case.y.shape, case.task_names)
print({role: int((case.roles == role).sum()) for role in ("both", "eval")})
print(list(case.weak_featurizers))

# %%
# Weak-to-strong training
# -----------------------
# :func:`~skwtsg.experiments.run_cases` fits one
# :class:`~skwtsg.WeakToStrongRegressor` per weak model and records, per
# rubric, the errors of both models, the misfit, the gain (weak error minus
# strong error) and the bound of Theorem 1 (weak error minus misfit), all on
# the held-out essays.
from skwtsg.experiments import run_cases

records = run_cases([case])
columns = ["weak_model", "task", "weak_error", "strong_error", "misfit", "gain"]
records[columns].round(3)

# %%
# Gain against misfit
# -------------------
# Theorem 1 predicts points on or above ``y = x`` when the strong
# representation can express the scores (realizability). Theorem 2 relaxes
# this by a term that grows with ``ceiling_error``, the held-out error of the
# strong head fitted on the *true* scores. Compare it with the weak error:
# when the strong representation, given the true scores, does not do much
# better than the weak model, the weak labels leave little to gain, and when
# it does worse the roles are reversed (the strong-to-weak regime of the
# paper's §5.3, where points move towards ``y = -x``). With 140 training and
# 60 held-out essays these estimates are noisy (and a 768-dimensional strong
# side needs its ridge penalty); the full run has 1799 training and 772
# held-out essays per split.
import matplotlib.pyplot as plt

from skwtsg.plot import GainMisfitDisplay

fig, ax = plt.subplots(figsize=(5, 4))
GainMisfitDisplay.from_results(records, ax=ax)
ax.set_title("ELLIPSE, 200 essays: one point per (weak model, rubric)")
fig.tight_layout()

records[["weak_model", "task", "weak_error", "ceiling_error"]].round(3)
