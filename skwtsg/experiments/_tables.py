"""The runner's tables as Display inputs: defined in :mod:`skwtsg.plot._records`.

The Displays' ``from_results`` constructors read the runner's tables, and the
plotting package sits below the experiments, so the adapters live there; this
module keeps their import path.
"""

from ..plot._records import gain_misfit_inputs, selection_inputs

__all__ = ["gain_misfit_inputs", "selection_inputs"]
