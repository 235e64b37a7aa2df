"""Adam and SGD for K runs at once, on stacked parameters [K, ...]: the batched engine's optimiser."""

from __future__ import annotations

import torch
from torch.optim.adam import adam as functional_adam

CPU_CHUNK_BYTES = 2 ** 21             # per-tensor slice the CPU optimiser updates at a time
# Where Adam runs as torch's fused kernel: one pass over p, g, m, v instead of about 20 elementwise kernels
# over all runs, which for large nets are memory-bound and took a third of a GPU step. It is called once
# per run (each run has its own learning rate), and a run's call fills the GPU only if the run's tensors are
# large. Measured on an H200 (benchmarks/bench_engine.py --adam): fused ran 1.44x and 1.54x as fast for the
# paper grid's largest nets (37.5M parameters a run; 8 and 24 runs), and 0.96x to 0.80x as fast for
# paper.yaml's (loss, f) nets (G 2.0M, D 0.7M; 8 to 128 runs).
FUSED_DEVICES = ("cuda",)
FUSED_MIN_RUN_PARAMS = 2 ** 21         # of one net (G or D) per run


class StackedOptimizer:
    """Adam or SGD per run on stacked parameters [K, ...], with a per-run learning rate.

    The Adam update is torch.optim.Adam's (bias-corrected moments, eps outside the square root); on a
    device in FUSED_DEVICES, for nets of FUSED_MIN_RUN_PARAMS or more per run, it is torch's fused Adam,
    called per run with that run's learning rate.
    Only runs in `active` move. The step count lives on the device and no step reads a value back
    to the host, so that a CUDA graph can capture it.
    """

    def __init__(self, params, lr: torch.Tensor, adam: list[bool], betas, eps: float = 1e-8, decay: tuple = ()):
        """`adam`: per run, Adam (True) or SGD; a host list, so that nothing is read back from the device.
        `decay`: (factor, every, start), the learning rate times factor every `every` steps from step `start`."""
        self.params, self.lr, self.betas, self.eps, self.decay = list(params), lr, betas, eps, tuple(decay)
        self.adam, self.adam_runs = torch.tensor(adam, device=lr.device), list(adam)
        self.any_adam, self.all_adam = any(adam), all(adam)
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        # steps taken, per run: a run that sits out a step (gated, or frozen) keeps its moments and count
        self.t = torch.zeros(len(adam), dtype=torch.float64, device=lr.device)
        # steps of the whole stack (the decay's clock)
        self.calls = torch.zeros((), dtype=torch.float64, device=lr.device)
        run_params = sum(p[0].numel() for p in self.params)
        self.fused = self.any_adam and lr.device.type in FUSED_DEVICES and run_params >= FUSED_MIN_RUN_PARAMS
        # the fused kernel counts steps per tensor: one count per run and tensor, each equal to t
        self.run_steps = [[torch.zeros((), device=lr.device) for _ in self.params] for _ in adam] if self.fused else []

    @torch.no_grad()
    def step(self, grads, active: torch.Tensor) -> None:
        """One update of the runs in `active`; the others keep their parameters, moments and step count (a
        diverged run's are its own). The fused kernel moves every run's moments (only the parameters of
        runs outside `active` stay)."""
        self.calls += 1
        self.t += active
        scale = self.lr * active  # per run: lr, or 0 for a run that sits out
        if self.decay:
            factor, every, start = self.decay
            decayed = factor ** torch.div((self.calls - 1 - start).clamp_min(0), every, rounding_mode="floor")
            scale = scale * decayed.to(scale.dtype)
        if self.fused:
            return self._fused_step(grads, scale)
        b1, b2 = self.betas
        t = self.t.clamp_min(1)  # a run that has not stepped yet has no moments to correct
        c1, c2 = 1 - b1 ** t, (1 - b2 ** t).sqrt()
        moving = active.to(self.params[0].dtype) if self.params else None
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            # On the CPU the update is memory-bound: a few runs at a time stay in cache (2x faster at K=32).
            runs = len(p) if p.device.type != "cpu" else max(1, CPU_CHUNK_BYTES // (p[0].numel() * p.element_size()))
            for lo in range(0, len(p), runs):
                part = slice(lo, lo + runs)
                self._update(p[part], g[part], m[part], v[part], scale[part], self.adam[part], c1[part], c2[part],
                             moving[part])

    def _update(self, p, g, m, v, scale, adam, c1, c2, moving) -> None:
        shape = (-1,) + (1,) * (p.ndim - 1)
        if not self.any_adam:
            p.sub_(g * scale.view(shape))
            return
        weight = moving.view(shape)
        m.lerp_(g, (1 - self.betas[0]) * weight)
        v.lerp_(g * g, (1 - self.betas[1]) * weight)
        c1, c2 = c1.to(p.dtype).view(shape), c2.to(p.dtype).view(shape)
        update = m / v.sqrt().div_(c2).add_(self.eps)
        if not self.all_adam:
            update = torch.where(adam.view(shape), update.div_(c1), g)
            p.sub_(update.mul_(scale.view(shape)))
        else:
            p.sub_(update.div_(c1).mul_(scale.view(shape)))

    def _fused_step(self, grads, scale) -> None:
        for k, adam in enumerate(self.adam_runs):
            params, run_grads = [p[k] for p in self.params], [g[k] for g in grads]
            if not adam:
                for p, g in zip(params, run_grads):
                    p.sub_(g * scale[k])
                continue
            functional_adam(params, run_grads, [m[k] for m in self.m], [v[k] for v in self.v], [], self.run_steps[k],
                            fused=True, amsgrad=False, beta1=self.betas[0], beta2=self.betas[1], lr=scale[k],
                            weight_decay=0.0, eps=self.eps, maximize=False)

    def state_dict(self):
        return {"m": self.m, "v": self.v, "t": self.t, "calls": self.calls}

    def load_state_dict(self, state):
        for mine, saved in zip(self.m + self.v, state["m"] + state["v"]):
            mine.copy_(saved)
        self.t.copy_(state["t"])
        self.calls.copy_(state["calls"])
        for count in (c for run in self.run_steps for c in run):  # the fused kernel's, one a step of the stack
            count.copy_(self.calls)
