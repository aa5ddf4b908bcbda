"""The paper's perturbed representations (section 5.1, "Perturbations")."""

from __future__ import annotations

import copy
from numbers import Real
from typing import Any

import numpy as np

from .._utils._torch import _import_torch, _seed_from
from .._utils._validation import check_bool

__all__ = ["perturb_weights"]


def perturb_weights(
    module: Any,
    sigma: float,
    *,
    random_state: int | np.random.RandomState | None = None,
    include_bias: bool = False,
) -> Any:
    """Copy a torch module with Gaussian noise added to its weight matrices.

    Every entry of every parameter with at least two dimensions (the weight
    matrices of ``Linear`` layers, convolution kernels, ...) gets independent
    ``N(0, sigma^2)`` noise; one-dimensional parameters (biases, norm scales)
    are unchanged unless ``include_bias=True``. The paper obtains ``h_s`` and
    ``h_w`` from ``h*`` with ``sigma_s = 0.01`` and ``sigma_w = 0.05``.

    Parameters
    ----------
    module : torch.nn.Module
        The module to perturb; it is not modified.
    sigma : float
        Standard deviation of the noise (finite, ``>= 0``).
    random_state : int, RandomState instance or None, default=None
        Seeds the noise. The noise is drawn in float64 on the CPU with a
        dedicated :class:`torch.Generator`, so it does not depend on the
        module's device or on torch's global state.
    include_bias : bool, default=False
        Also perturb the one-dimensional parameters.

    Returns
    -------
    perturbed : torch.nn.Module
        A deep copy of ``module`` with perturbed parameters.

    See Also
    --------
    skwtsg.datasets.make_synthetic_tasks : Provides ``h*``.
    TorchFeaturizer : Turns the perturbed module into a featurizer.

    Examples
    --------
    >>> import torch
    >>> from skwtsg.featurizers import MLP, perturb_weights
    >>> _ = torch.manual_seed(0)
    >>> h_star = MLP(n_layers=5)
    >>> h_s = perturb_weights(h_star, 0.01, random_state=0)
    >>> delta = (h_s[0].weight - h_star[0].weight).detach()
    >>> round(float(delta.std()), 2)
    0.01
    >>> bool(torch.equal(h_s[0].bias, h_star[0].bias))
    True
    """
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise ValueError(
            f"`module` must be a torch.nn.Module, got {type(module).__name__}."
        )
    if (
        not isinstance(sigma, Real)
        or isinstance(sigma, bool)
        or not np.isfinite(sigma)
        or sigma < 0
    ):
        raise ValueError(
            f"`sigma` must be a finite non-negative number, got {sigma!r}."
        )
    check_bool(include_bias, "include_bias")
    generator = torch.Generator().manual_seed(_seed_from(random_state))
    perturbed = copy.deepcopy(module)
    with torch.no_grad():
        for param in perturbed.parameters():
            if param.ndim < 2 and not include_bias:
                continue
            noise = torch.randn(param.shape, generator=generator, dtype=torch.float64)
            noise = (noise * float(sigma)).to(device=param.device, dtype=param.dtype)
            param.add_(noise)
            if not torch.isfinite(param).all():
                raise ValueError(
                    f"`sigma`={sigma!r} overflows the module's dtype "
                    f"({param.dtype}): the perturbed weights are not finite."
                )
    return perturbed
