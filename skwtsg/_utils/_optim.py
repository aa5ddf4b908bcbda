"""skwtsg's optimisers: torch.optim's arithmetic without torch.optim.

Constructing any :mod:`torch.optim` optimiser imports ``torch._dynamo`` (a
second or more, and memory, once per process: ``Optimizer.add_param_group``
and ``step`` are wrapped by ``torch._disable_dynamo``), whatever its
``fused``/``foreach`` flags. The classes here run the same updates with the
same kernels and the same operations in the same order, so that training is
**bitwise identical** to :mod:`torch.optim` (torch 2.3 to 2.13) for the
settings skwtsg uses:

* :class:`_Adam` (``decoupled=True``: AdamW): ``betas=(0.9, 0.999)``,
  ``eps=1e-8``, no amsgrad, no maximize; per-group ``lr`` and
  ``weight_decay`` (AdamW's default ``0.01``, Adam's ``0``). ``fused=True``
  calls the aten kernels ``torch._fused_adam_``/``torch._fused_adamw_``
  (torch.optim's ``_fused_adam``); ``fused=False`` is torch.optim's default
  for-loop (``_single_tensor_adam``) on the CPU and its ``foreach`` path
  (``_multi_tensor_adam``) when the parameters are on CUDA/XPU.
* :class:`_SGD`: no momentum, per-group ``lr`` and ``weight_decay``;
  ``torch._fused_sgd_`` when fused, else torch.optim's for-loop (CPU) or
  foreach path (CUDA/XPU).
* :class:`_CosineSchedule`: ``torch.optim.lr_scheduler.CosineAnnealingLR``
  with ``eta_min=0`` (its recursive form, in Python floats).
* :class:`_LBFGS`: ``torch.optim.LBFGS`` with one parameter group and
  ``line_search_fn="strong_wolfe"``; the code of ``_cubic_interpolate``,
  ``_strong_wolfe`` and ``LBFGS.step`` (BSD-3-Clause, Copyright (c) the
  PyTorch contributors) with the other options removed.

As in torch.optim, parameters whose ``grad`` is ``None`` are skipped by a
step (their step count does not advance) and the step count of Adam is a
float32 number (float64 when torch's default dtype is float64), exact up to
2**24 steps. ``skwtsg/_utils/tests/test_optim.py`` checks the equality with
torch.optim parameter by parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ._torch import _import_torch

# torch.utils._foreach_utils: the devices of the fused and foreach kernels
_FUSED_DEVICES = ("mps", "cuda", "xpu", "hpu", "cpu", "mtia")
_FOREACH_DEVICES = ("cuda", "xpu", "mtia")
_GROUP_KEYS = frozenset({"params", "lr", "weight_decay"})


def _privateuse1(torch) -> str:
    return str(torch._C._get_privateuse1_backend_name())


def _fused_supported(torch, params) -> bool:
    devices = (*_FUSED_DEVICES, _privateuse1(torch))
    return all(p.device.type in devices and torch.is_floating_point(p) for p in params)


def _foreach_supported(torch, params) -> bool:
    # torch.optim.optimizer._default_to_fused_or_foreach(use_fused=False)
    devices = (*_FOREACH_DEVICES, _privateuse1(torch))
    types = (torch.Tensor, torch.nn.Parameter)
    return all(type(p) in types and p.device.type in devices for p in params)


def _by_device_and_dtype(*lists: list) -> list[tuple]:
    """Split aligned lists by their first list's (device, dtype), in order."""
    groups: dict[tuple, tuple[list, ...]] = {}
    for items in zip(*lists):
        key = (items[0].device, items[0].dtype)
        if key not in groups:
            groups[key] = tuple([] for _ in lists)
        for column, item in zip(groups[key], items):
            column.append(item)
    return list(groups.values())


def _zero_grad(params: Iterable[Any], set_to_none: bool) -> None:
    """``torch.optim.Optimizer.zero_grad``'s for-loop form, on ``params``."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
            continue
        if p.grad.grad_fn is not None:
            p.grad.detach_()
        else:
            p.grad.requires_grad_(False)
        p.grad.zero_()


class _Optimizer:
    """Parameter groups (copied) with per-group ``lr`` and ``weight_decay``."""

    def __init__(
        self, param_groups: Iterable[dict], *, lr: float, weight_decay: float
    ) -> None:
        self.torch = _import_torch()
        self.param_groups: list[dict[str, Any]] = []
        seen: set[int] = set()
        for group in param_groups:
            unknown = set(group) - _GROUP_KEYS
            if unknown:
                raise ValueError(
                    f"parameter groups may set {sorted(_GROUP_KEYS)}, got the "
                    f"unsupported keys {sorted(unknown)}."
                )
            params = list(group["params"])
            for p in params:
                if not isinstance(p, self.torch.Tensor) or not p.is_leaf:
                    raise ValueError(
                        "the parameters to optimise must be leaf tensors, got "
                        f"{type(p).__name__}."
                    )
                if id(p) in seen:
                    raise ValueError("a parameter appears in two parameter groups.")
                seen.add(id(p))
            self.param_groups.append(
                {
                    "params": params,
                    "lr": group.get("lr", lr),
                    "weight_decay": group.get("weight_decay", weight_decay),
                }
            )
        self.state: dict[Any, dict[str, Any]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """``torch.optim.Optimizer.zero_grad`` (for-loop form)."""
        _zero_grad(
            (p for group in self.param_groups for p in group["params"]), set_to_none
        )

    def step(self) -> None:
        with self.torch.no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._update(group, params)

    def _update(self, group: dict[str, Any], params: list) -> None:
        raise NotImplementedError  # pragma: no cover


class _Adam(_Optimizer):
    """torch.optim.Adam (``decoupled=True``: AdamW) with its default betas/eps.

    ``fused=True`` uses the fused kernels (torch.optim's ``fused=True``) and
    falls back to the default path when a parameter is not a floating-point
    tensor of a device with those kernels.
    """

    beta1 = 0.9
    beta2 = 0.999
    eps = 1e-8

    def __init__(
        self,
        param_groups: Iterable[dict],
        lr: float = 1e-3,
        *,
        decoupled: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__(param_groups, lr=lr, weight_decay=1e-2 if decoupled else 0.0)
        self.decoupled = decoupled
        params = [p for g in self.param_groups for p in g["params"]]
        self.fused = bool(fused) and _fused_supported(self.torch, params)
        torch = self.torch
        default = torch.get_default_dtype()
        # torch.optim.optimizer._get_scalar_dtype: the dtype of the step count
        self._step_dtype = (
            torch.float32 if self.fused or default != torch.float64 else torch.float64
        )

    def _init_state(self, p) -> dict[str, Any]:
        state = self.state.get(p)
        if state is None:
            torch = self.torch
            step: Any = (
                torch.zeros((), dtype=torch.float32, device=p.device)
                if self.fused
                else 0.0
            )
            state = self.state[p] = {
                "step": step,
                "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
            }
        return state

    def _next_step(self, step: float) -> float:
        """``step_t += 1`` on torch.optim's scalar tensor, in Python floats."""
        if self._step_dtype == self.torch.float32:
            return float(np.float32(step + 1.0))  # step + 1.0 is exact
        return step + 1.0

    def _update(self, group: dict[str, Any], params: list) -> None:
        torch = self.torch
        lr, weight_decay = group["lr"], group["weight_decay"]
        beta1, beta2, eps = self.beta1, self.beta2, self.eps
        states = [self._init_state(p) for p in params]
        grads = [p.grad for p in params]
        exp_avgs = [s["exp_avg"] for s in states]
        exp_avg_sqs = [s["exp_avg_sq"] for s in states]
        if self.fused:  # torch.optim.adam._fused_adam
            steps = [s["step"] for s in states]
            func = torch._fused_adamw_ if self.decoupled else torch._fused_adam_
            for ps, gs, ms, vs, ss in _by_device_and_dtype(
                params, grads, exp_avgs, exp_avg_sqs, steps
            ):
                torch._foreach_add_(ss, 1)
                func(
                    ps,
                    gs,
                    ms,
                    vs,
                    [],
                    ss,
                    amsgrad=False,
                    lr=lr,
                    beta1=beta1,
                    beta2=beta2,
                    weight_decay=weight_decay,
                    eps=eps,
                    maximize=False,
                    grad_scale=None,
                    found_inf=None,
                )
            return
        for s in states:
            s["step"] = self._next_step(s["step"])
        if _foreach_supported(torch, params):
            self._foreach_update(
                params, grads, exp_avgs, exp_avg_sqs, states, lr, weight_decay
            )
            return
        # torch.optim.adam._single_tensor_adam (capturable=False)
        for param, grad, exp_avg, exp_avg_sq, s in zip(
            params, grads, exp_avgs, exp_avg_sqs, states
        ):
            if weight_decay != 0:
                if self.decoupled:
                    param.mul_(1 - lr * weight_decay)
                else:
                    grad = grad.add(param, alpha=weight_decay)
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            step = s["step"]
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2**0.5
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
            param.addcdiv_(exp_avg, denom, value=-step_size)

    def _foreach_update(
        self, params, grads, exp_avgs, exp_avg_sqs, states, lr, weight_decay
    ) -> None:
        """torch.optim.adam._multi_tensor_adam (capturable=False)."""
        torch = self.torch
        beta1, beta2, eps = self.beta1, self.beta2, self.eps
        for ps, gs, ms, vs, ss in _by_device_and_dtype(
            params, grads, exp_avgs, exp_avg_sqs, states
        ):
            if weight_decay != 0:
                if self.decoupled:
                    torch._foreach_mul_(ps, 1 - lr * weight_decay)
                else:
                    gs = torch._foreach_add(gs, ps, alpha=weight_decay)
            torch._foreach_lerp_(ms, gs, 1 - beta1)
            torch._foreach_mul_(vs, beta2)
            torch._foreach_addcmul_(vs, gs, gs, 1 - beta2)
            del gs
            bias_correction1 = [1 - beta1 ** s["step"] for s in ss]
            bias_correction2 = [1 - beta2 ** s["step"] for s in ss]
            step_size = [(lr / bc) * -1 for bc in bias_correction1]
            bias_correction2_sqrt = [bc**0.5 for bc in bias_correction2]
            exp_avg_sq_sqrt = torch._foreach_sqrt(vs)
            torch._foreach_div_(exp_avg_sq_sqrt, bias_correction2_sqrt)
            torch._foreach_add_(exp_avg_sq_sqrt, eps)
            torch._foreach_addcdiv_(ps, ms, exp_avg_sq_sqrt, step_size)


class _SGD(_Optimizer):
    """torch.optim.SGD without momentum (plain gradient steps)."""

    def __init__(
        self, param_groups: Iterable[dict], lr: float = 1e-3, *, fused: bool = False
    ) -> None:
        super().__init__(param_groups, lr=lr, weight_decay=0.0)
        params = [p for g in self.param_groups for p in g["params"]]
        self.fused = bool(fused) and _fused_supported(self.torch, params)

    def _update(self, group: dict[str, Any], params: list) -> None:
        torch = self.torch
        lr, weight_decay = group["lr"], group["weight_decay"]
        grads = [p.grad for p in params]
        if self.fused:  # torch.optim.sgd._fused_sgd
            for ps, gs in _by_device_and_dtype(params, grads):
                torch._fused_sgd_(
                    ps,
                    gs,
                    [],
                    weight_decay=weight_decay,
                    momentum=0.0,
                    lr=lr,
                    dampening=0.0,
                    nesterov=False,
                    maximize=False,
                    is_first_step=False,
                    grad_scale=None,
                    found_inf=None,
                )
        elif _foreach_supported(torch, params):  # _multi_tensor_sgd
            for ps, gs in _by_device_and_dtype(params, grads):
                if weight_decay != 0:
                    gs = torch._foreach_add(gs, ps, alpha=weight_decay)
                torch._foreach_add_(ps, gs, alpha=-lr)
        else:  # _single_tensor_sgd
            for param, grad in zip(params, grads):
                if weight_decay != 0:
                    grad = grad.add(param, alpha=weight_decay)
                param.add_(grad, alpha=-lr)


class _CosineSchedule:
    """torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max), eta_min=0.

    ``step()`` after each optimiser step sets every group's ``lr`` by the
    scheduler's recursive formula (``get_lr``), in the same float operations.
    """

    eta_min = 0.0

    def __init__(self, optimizer: _Optimizer, T_max: int) -> None:
        self.optimizer = optimizer
        self.T_max = T_max
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = 0

    def step(self) -> None:
        self.last_epoch += 1
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if (t - 1 - T) % (2 * T) == 0:
            lrs = [
                group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base_lr, group in zip(self.base_lrs, groups)
            ]
        else:
            lrs = [
                (1 + math.cos(math.pi * t / T))
                / (1 + math.cos(math.pi * (t - 1) / T))
                * (group["lr"] - eta_min)
                + eta_min
                for group in groups
            ]
        for group, lr in zip(groups, lrs):
            group["lr"] = lr


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    # torch.optim.lbfgs._cubic_interpolate
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square.sqrt()
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(  # noqa: C901 - torch.optim.lbfgs._strong_wolfe as is
    obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25
):
    torch = _import_torch()
    d_norm = d.abs().max()
    g = g.clone(memory_format=torch.contiguous_format)
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone(memory_format=torch.contiguous_format)]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = [t]
            bracket_f = [f_new]
            bracket_g = [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone(memory_format=torch.contiguous_format)]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev = tmp
        f_prev = f_new
        g_prev = g_new.clone(memory_format=torch.contiguous_format)
        gtd_prev = gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [0, t]
        bracket_f = [f, f_new]
        bracket_g = [g, g_new]
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0],
            bracket_f[0],
            bracket_gtd[0],
            bracket[1],
            bracket_f[1],
            bracket_gtd[1],
        )
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new.clone(memory_format=torch.contiguous_format)
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new.clone(memory_format=torch.contiguous_format)
            bracket_gtd[low_pos] = gtd_new
    t = bracket[low_pos]
    f_new = bracket_f[low_pos]
    g_new = bracket_g[low_pos]
    return f_new, g_new, t, ls_func_evals


class _LBFGS:
    """torch.optim.LBFGS(params, ..., line_search_fn="strong_wolfe").

    One parameter group of real tensors; ``max_iter`` and ``max_eval`` may be
    changed between calls of ``step`` (torch.optim's
    ``param_groups[0]["max_iter"]``); ``n_iter`` counts all iterations.
    """

    def __init__(
        self,
        params: Sequence,
        *,
        lr: float = 1.0,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
    ) -> None:
        self.torch = _import_torch()
        self._params = list(params)
        for p in self._params:
            if self.torch.is_complex(p):
                raise ValueError("L-BFGS here optimises real parameters only.")
        self.lr = lr
        self.max_iter = max_iter
        self.max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        self.tolerance_grad = tolerance_grad
        self.tolerance_change = tolerance_change
        self.history_size = history_size
        self.state: dict[str, Any] = {"func_evals": 0, "n_iter": 0}
        self._numel = sum(p.numel() for p in self._params)

    @property
    def n_iter(self) -> int:
        return int(self.state["n_iter"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        """``torch.optim.Optimizer.zero_grad`` (for-loop form)."""
        _zero_grad(self._params, set_to_none)

    def _gather_flat_grad(self):
        views = []
        for p in self._params:
            if p.grad is None:
                view = p.new(p.numel()).zero_()
            elif p.grad.is_sparse:
                view = p.grad.to_dense().view(-1)
            else:
                view = p.grad.view(-1)
            views.append(view)
        return self.torch.cat(views, 0)

    def _add_grad(self, step_size, update) -> None:
        offset = 0
        for p in self._params:
            numel = p.numel()
            p.add_(update[offset : offset + numel].view_as(p), alpha=step_size)
            offset += numel

    def _clone_param(self):
        contiguous = self.torch.contiguous_format
        return [p.clone(memory_format=contiguous) for p in self._params]

    def _set_param(self, params_data) -> None:
        for p, pdata in zip(self._params, params_data):
            p.copy_(pdata)

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure: Callable[[], Any]):
        """One call of ``torch.optim.LBFGS.step(closure)``; returns its loss."""
        torch = self.torch
        with torch.no_grad():
            return self._step(torch.enable_grad()(closure))

    def _step(self, closure):  # noqa: C901 - torch.optim.LBFGS.step as is
        torch = self.torch
        lr = self.lr
        max_iter = self.max_iter
        max_eval = self.max_eval
        tolerance_grad = self.tolerance_grad
        tolerance_change = self.tolerance_change
        history_size = self.history_size
        state = self.state

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        opt_cond = flat_grad.abs().max() <= tolerance_grad
        if opt_cond:
            return orig_loss

        d = state.get("d")
        t = state.get("t")
        old_dirs = state.get("old_dirs")
        old_stps = state.get("old_stps")
        ro = state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad = state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = flat_grad.neg()
                old_dirs = []
                old_stps = []
                ro = []
                H_diag = 1
            else:
                y = flat_grad.sub(prev_flat_grad)
                s = d.mul(t)
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = flat_grad.neg()
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q.add_(old_dirs[i], alpha=-al[i])
                d = r = torch.mul(q, H_diag)
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r.add_(old_stps[i], alpha=al[i] - be_i)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone(memory_format=torch.contiguous_format)
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss

            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr
            else:
                t = lr

            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break

            x_init = self._clone_param()

            def obj_func(x, t, d):
                return self._directional_evaluate(closure, x, t, d)

            loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                obj_func,
                x_init,
                t,
                d,
                loss,
                flat_grad,
                gtd,
                max_ls=max_eval - current_evals,
            )
            self._add_grad(t, d)
            opt_cond = flat_grad.abs().max() <= tolerance_grad

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter:
                break
            if current_evals >= max_eval:
                break
            if opt_cond:
                break
            if d.mul(t).abs().max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = d
        state["t"] = t
        state["old_dirs"] = old_dirs
        state["old_stps"] = old_stps
        state["ro"] = ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"] = prev_flat_grad
        state["prev_loss"] = prev_loss
        return orig_loss
