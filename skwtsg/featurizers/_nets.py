"""Small torch networks: the paper's ReLU multi-layer perceptrons.

torch is imported only when a network is built, so importing this module (and
``skwtsg.featurizers``) works without torch installed.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

from .._utils._docstrings import fill_doc_with
from .._utils._validation import check_bool

__all__ = ["MLP", "make_mlp"]

_ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "identity")


def _activation_layer(name):
    import torch.nn as nn

    return {
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "gelu": nn.GELU,
    }[name]()


def _check_positive_int(value, name, allow_none=False):
    if allow_none and value is None:
        return
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")


_MLP_PARAMETERS = """\
in_features : int, default=8
    Input dimension (the featurizers set it to ``n_features_in_`` unless
    ``module__in_features`` is given).
hidden : int, default=16
    Width of every layer.
n_layers : int, default=5
    Number of ``Linear`` layers (the paper: 5 for the target ``h*``, 2 for
    the weak ``H_w``, 8 for the strong ``H_s``).
out_features : int or None, default=None
    Width of the last layer; ``None`` means ``hidden``.
activation : {"relu", "tanh", "sigmoid", "gelu", "identity"}, default="relu"
    Non-linearity after each ``Linear`` layer.
bias : bool, default=True
    Whether the ``Linear`` layers have a bias.
final_activation : bool, default=True
    Whether the activation also follows the last ``Linear`` layer (as in the
    authors' code)."""


@fill_doc_with(mlp_parameters=_MLP_PARAMETERS)
def make_mlp(
    in_features: int = 8,
    hidden: int = 16,
    *,
    n_layers: int = 5,
    out_features: int | None = None,
    activation: str = "relu",
    bias: bool = True,
    final_activation: bool = True,
) -> Any:
    """Build a multi-layer perceptron as a :class:`torch.nn.Sequential`.

    ``n_layers`` blocks ``Linear -> activation``, flat in one ``Sequential``
    (even children are the ``Linear`` layers). Weights use torch's default
    initialisation: seed torch for a reproducible network (the featurizers'
    ``random_state`` does).

    Parameters
    ----------
    {mlp_parameters}

    Returns
    -------
    net : torch.nn.Sequential
        The network, mapping ``(n, in_features)`` to ``(n, out_features or
        hidden)``.

    See Also
    --------
    MLP : The same, usable as a module class (``module=MLP``).

    Examples
    --------
    >>> import torch
    >>> from skwtsg.featurizers import make_mlp
    >>> _ = torch.manual_seed(0)
    >>> net = make_mlp(in_features=8, hidden=16, n_layers=2)
    >>> net
    Sequential(
      (0): Linear(in_features=8, out_features=16, bias=True)
      (1): ReLU()
      (2): Linear(in_features=16, out_features=16, bias=True)
      (3): ReLU()
    )
    >>> net(torch.zeros(3, 8)).shape
    torch.Size([3, 16])
    """
    import torch.nn as nn

    _check_positive_int(in_features, "in_features")
    _check_positive_int(hidden, "hidden")
    _check_positive_int(n_layers, "n_layers")
    _check_positive_int(out_features, "out_features", allow_none=True)
    check_bool(bias, "bias")
    check_bool(final_activation, "final_activation")
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"`activation` must be one of {_ACTIVATIONS}, got {activation!r}."
        )
    layers = []
    width_in = in_features
    for i in range(n_layers):
        last = i == n_layers - 1
        width_out = out_features if (last and out_features is not None) else hidden
        layers.append(nn.Linear(width_in, width_out, bias=bool(bias)))
        if activation != "identity" and (final_activation or not last):
            layers.append(_activation_layer(activation))
        width_in = width_out
    return nn.Sequential(*layers)


@fill_doc_with(mlp_parameters=_MLP_PARAMETERS)
class MLP:
    """The paper's multi-layer perceptron, as a module class.

    ``MLP(**params)`` returns :func:`make_mlp`'s network: a factory class,
    passed skorch-style as ``module=MLP`` with ``module__n_layers=...``
    parameters, without importing torch at ``import skwtsg``.

    Parameters
    ----------
    {mlp_parameters}

    See Also
    --------
    make_mlp : The underlying function.
    TorchFeaturizer : Uses the network's forward pass as a transformer.

    Examples
    --------
    >>> import torch
    >>> from skwtsg.featurizers import MLP
    >>> _ = torch.manual_seed(0)
    >>> net = MLP(n_layers=8)
    >>> type(net).__name__, len(net)
    ('Sequential', 16)
    >>> net(torch.zeros(2, 8)).shape
    torch.Size([2, 16])
    """

    def __new__(
        cls,
        in_features: int = 8,
        hidden: int = 16,
        *,
        n_layers: int = 5,
        out_features: int | None = None,
        activation: str = "relu",
        bias: bool = True,
        final_activation: bool = True,
    ) -> Any:
        return make_mlp(
            in_features=in_features,
            hidden=hidden,
            n_layers=n_layers,
            out_features=out_features,
            activation=activation,
            bias=bias,
            final_activation=final_activation,
        )
