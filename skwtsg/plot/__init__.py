"""Displays for weak-to-strong diagnostics (needs matplotlib: ``skwtsg[plot]``).

Importing this module does not import matplotlib; each display imports it
when it draws.
"""

from ._gain_misfit import GainMisfitDisplay
from ._selection import WeakModelSelectionDisplay

__all__ = ["GainMisfitDisplay", "WeakModelSelectionDisplay"]
