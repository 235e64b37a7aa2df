"""One run's network as it is saved: its weights beside a record of what built it (`meta.` entries: the
architecture's name, its build arguments, the dataset, and for a discriminator how s is made non-negative
and its dropout rate), so that it is rebuilt from the architecture registry alone. Written by the stack
(energygan.engine.stack), read through the run folder (energygan.study.runfolder)."""

from __future__ import annotations

from energygan.engine import architectures

PREFIX = "meta."
REQUIRED = tuple(f"{PREFIX}{key}" for key in ("architecture", "arguments", "dataset"))


def record(state: dict, **meta) -> dict:
    """Weights of one run (`state`, without the run axis) with what built them."""
    return {**state, **{f"{PREFIX}{key}": value for key, value in meta.items()}}


def split(saved: dict) -> tuple[dict, dict]:
    """(weights, what built them) of a saved record."""
    weights = {k: v for k, v in saved.items() if not k.startswith(PREFIX)}
    return weights, {k[len(PREFIX):]: v for k, v in saved.items() if k.startswith(PREFIX)}


def rebuild(saved: dict, role: str):
    """The saved net, built as a stack of one run with its weights loaded (a RuntimeError where the
    weights do not fit the record), and the record's entries."""
    weights, meta = split(saved)
    net = architectures.build(role, meta["architecture"], 1, meta["arguments"])
    net.load_state_dict({name: tensor[None] for name, tensor in weights.items()})
    return net, meta
