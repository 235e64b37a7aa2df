"""A stack's checkpoint: its runs, settings, networks, optimisers and progress in one file, refused by name
when it was made for other runs or cannot be read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch


class CheckpointError(RuntimeError):
    pass


@dataclass
class Progress:
    step: int = 0
    status: list = field(default_factory=list)         # "ok" | "diverged" per run
    diverged_step: list = field(default_factory=list)  # step at which a run diverged, else -1
    curves: list = field(default_factory=list)         # [K, 5] tensors: step, d_loss, g_loss, s_real, s_fake


def state_dict(self) -> dict:
    """`self`: a Trainer; everything its resumption needs."""
    return {"runs": [asdict(r) for r in self.runs], "setup": asdict(self.setup),
            "G": self.G.state_dict(), "D": self.D.state_dict(),
            **({"G_average": self.G_average.state_dict()} if self.G_average is not None else {}),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "last_d_loss": self.last_d_loss,
            "progress": asdict(self.progress)}


def load(self, path: str | Path) -> None:
    """Trainer `self` as its checkpoint at `path` left it."""
    path = Path(path)
    try:
        state = torch.load(path, map_location=self.device, weights_only=True)
        if state["runs"] != [asdict(r) for r in self.runs] or state["setup"] != asdict(self.setup):
            raise CheckpointError(f"checkpoint {path} was made for other runs or settings; delete it to start over")
        self.G.load_state_dict(state["G"])
        if self.G_average is not None:
            self.G_average.load_state_dict(state["G_average"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.last_d_loss.copy_(state["last_d_loss"])
        self.progress = Progress(**state["progress"])
        # in place: a captured CUDA graph keeps reading these tensors
        self.first_bad.copy_(torch.tensor(self.progress.diverged_step))
        self.step_count.fill_(self.progress.step)
    except CheckpointError:
        raise
    except Exception as err:  # truncated zip, missing keys, wrong shapes: all the same to the user
        # torch's own message for a bad file suggests weights_only=False: not advice to pass on
        raise CheckpointError(f"checkpoint {path} is corrupt or unreadable ({type(err).__name__}); "
                              "delete it to restart this job from step 0") from err
