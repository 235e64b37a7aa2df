"""Adam and SGD for K runs at once, on stacked parameters [K, ...]: the batched engine's optimiser."""

from __future__ import annotations

import torch

CPU_CHUNK_BYTES = 2 ** 21             # per-tensor slice the CPU optimiser updates at a time


class StackedOptimizer:
    """Adam or SGD per run on stacked parameters [K, ...], with a per-run learning rate.

    The Adam update is torch.optim.Adam's (bias-corrected moments, eps outside the square root).
    Only runs in `active` move. The step count lives on the device and no step reads a value back
    to the host, so that a CUDA graph can capture it.
    """

    def __init__(self, params, lr: torch.Tensor, adam: list[bool], betas, eps: float = 1e-8):
        """`adam`: per run, Adam (True) or SGD; a host list, so that nothing is read back from the device."""
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.adam = torch.tensor(adam, device=lr.device)
        self.any_adam, self.all_adam = any(adam), all(adam)
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = torch.zeros((), dtype=torch.float64, device=lr.device)

    @torch.no_grad()
    def step(self, grads, active: torch.Tensor) -> None:
        """One update; runs outside `active` keep their parameters (a diverged run's are its own)."""
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1 ** self.t, (1 - b2 ** self.t).sqrt()
        scale = self.lr * active  # per run: lr, or 0 for a frozen run
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            # On the CPU the update is memory-bound: a few runs at a time stay in cache (2x faster at K=32).
            runs = len(p) if p.device.type != "cpu" else max(1, CPU_CHUNK_BYTES // (p[0].numel() * p.element_size()))
            for lo in range(0, len(p), runs):
                part = slice(lo, lo + runs)
                self._update(p[part], g[part], m[part], v[part], scale[part], self.adam[part], c1, c2)

    def _update(self, p, g, m, v, scale, adam, c1, c2) -> None:
        shape = (-1,) + (1,) * (p.ndim - 1)
        if not self.any_adam:
            p.sub_(g * scale.view(shape))
            return
        m.lerp_(g, 1 - self.betas[0])
        v.mul_(self.betas[1]).addcmul_(g, g, value=1 - self.betas[1])
        update = m / v.sqrt().div_(c2).add_(self.eps)
        if not self.all_adam:
            update = torch.where(adam.view(shape), update.div_(c1), g)
            p.sub_(update.mul_(scale.view(shape)))
        else:
            p.sub_(update.mul_((scale / c1).view(shape)))

    def state_dict(self):
        return {"m": self.m, "v": self.v, "t": self.t}

    def load_state_dict(self, state):
        for mine, saved in zip(self.m + self.v, state["m"] + state["v"]):
            mine.copy_(saved)
        self.t.copy_(state["t"])
