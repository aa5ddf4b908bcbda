"""
=========================================================
Essay scoring: TF-IDF teachers for a sentence-transformer
=========================================================

Charikar, Pabbaraju and Shiragur (2024), *Quantifying the Gain in
Weak-to-Strong Generalization*, appendix C.1: essays by English Language
Learners are scored on six rubrics (cohesion, syntax, vocabulary,
phraseology, grammar, conventions), each rubric a regression task. A weak
model is fitted on the true scores of 70% of the essays; it then labels the
same essays, and a strong model is fitted on those weak labels only. The
held-out 30% measure each model's error and the misfit between them.

The paper used Kaggle's Feedback Prize ELL ``train.csv``, bert-base-uncased
as the strong representation and miniature BERTs as weak ones. Here: the test
half of the same corpus (ELLIPSE, 2571 essays, the same rubrics), a frozen
all-MiniLM-L6-v2 sentence embedding (384 dimensions) as the strong
representation and TF-IDF + truncated SVD with ``k`` components as the weak
family, with linear heads.

To stay fast, this example uses ``quick=True``: a random subset of 200
essays, the two smallest weak models, and a ridge strong head (140 training
essays are fewer than the 385 unknowns of an exact least-squares head on 384
features, which would interpolate its labels). The full experiment uses
2571 essays, k = 8, 16, ..., 256 and exact least squares.
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
# rubrics as tasks, the strong featurizer and the weak ones. The strong
# featurizer caches the embeddings on disk (by default under
# ``~/.cache/skwtsg/embeddings``): only the first run embeds the essays.
from skwtsg.experiments import make_essay_cases

(case,) = make_essay_cases(quick=True, random_state=0)
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
# paper's §5.3, where points move towards ``y = -x``). With 60 held-out
# essays these estimates are noisy; the full run has 1799 training and 772
# held-out essays.
import matplotlib.pyplot as plt

from skwtsg.plot import GainMisfitDisplay

fig, ax = plt.subplots(figsize=(5, 4))
GainMisfitDisplay.from_results(records, ax=ax)
ax.set_title("ELLIPSE, 200 essays: one point per rubric")
fig.tight_layout()

records[["weak_model", "task", "weak_error", "ceiling_error"]].round(3)
