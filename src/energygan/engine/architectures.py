"""Architectures as a registry: each generator and discriminator by name, how it is built for K runs at
once, and which settings and datasets it takes. A run's saved network records its architecture's name
and build arguments, so that it is rebuilt from here alone (see energygan.study.runfolder).

Depth and width follow EBGAN Table 1's names: `n_layer_g`, `size_g`, `n_layer_d`, `size_d`. For the MLPs
they are layers and hidden units; for DCGAN they are the number of (transposed) convolutions, which fixes
the image side at 4 * 2^(n - 1), and the channels next to the image; for the convolutional autoencoder,
the encoder's strided convolutions and its first layer's channels.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from energygan.engine import entropy, parametrisations
from energygan.engine.precision import PRECISIONS


@dataclass(frozen=True)
class Architecture:
    name: str
    # "module:class" in energygan.engine, (runs, **build arguments) -> a stacked module: named, not imported,
    # so that the config is checked against this registry without torch
    builder: str
    convolutional: bool = False # images only
    autoencoder: bool = False   # outputs (energy, code): EBGAN's energy and the pull-away term's code
    dropout: bool = False       # takes per-layer dropout masks (dropout_d)


GENERATORS = {a.name: a for a in [
    Architecture("mlp", "models:MLPGenerator"),
    Architecture("dcgan", "convnets:DCGANGenerator", convolutional=True),
]}
DISCRIMINATORS = {a.name: a for a in [
    Architecture("mlp", "models:MLPDiscriminator", dropout=True),
    Architecture("autoencoder", "models:StackedAutoencoder", autoencoder=True, dropout=True),
    Architecture("dcgan", "convnets:DCGANDiscriminator", convolutional=True),
    Architecture("conv_autoencoder", "convnets:ConvAutoencoder", convolutional=True, autoencoder=True),
]}
ROLES = {"generator": GENERATORS, "discriminator": DISCRIMINATORS}
# `setup.batch_norm`: which nets are batch-normalised. A discriminator's batch normalization takes the
# statistics of the batch it is given, and real and fake batches are given apart (as in DCGAN), so each
# batch's own mean and spread are taken out of the normalised features: an MLP discriminator then cannot
# see, nor pass to G a gradient against, how far the fake batch's hidden features sit from the real one's.
# Measured on MNIST (benchmarks/batch_norm_quality.py: default nets, logistic + softplus, 3,000 steps, lr
# 2e-4, 2 seeds; benchmarks/measured/batch_norm_quality.csv): `both` IS 1.06 in the engine and 1.15 in a
# one-model torch loop (noise), `generator` 4.38 and 4.56, `none` 1.02 and 1.00; the torch loop with real and
# fake normalised together in one batch 3.29. A convolutional discriminator pools the statistics over
# positions too, and trains with `both` (DCGAN's choice).
NORMALISED = {"none": (), "generator": ("generator",), "both": ("generator", "discriminator")}


def get(role: str, name: str) -> Architecture:
    known = ROLES[role]
    if name not in known:
        raise ValueError(f"unknown {role} architecture {name!r}; known: {sorted(known)}")
    return known[name]


def build_arguments(role: str, setup, shape: tuple) -> dict:
    """What builds `setup`'s network of `role` for samples of `shape` (JSON-able: it is saved with each run)."""
    batch_norm = role in NORMALISED[setup.batch_norm]
    if role == "generator":
        return {"z_dim": setup.z_dim, "shape": list(shape), "n_layers": setup.n_layer_g, "size": setup.size_g,
                "batch_norm": batch_norm}
    arguments = {"shape": list(shape), "n_layers": setup.n_layer_d, "size": setup.size_d, "batch_norm": batch_norm}
    if DISCRIMINATORS[setup.discriminator].autoencoder:
        arguments["energy"] = setup.energy
    return arguments


def build(role: str, name: str, runs: int, arguments: dict):
    module, _, cls = get(role, name).builder.partition(":")
    return getattr(importlib.import_module(f"energygan.engine.{module}"), cls)(runs, **arguments)


def problems(setup, shape: tuple, pull_away: bool, dropout: bool) -> list[str]:
    """Why `setup`'s networks cannot train on samples of `shape`, as messages naming the settings (empty
    if they can). `pull_away` / `dropout`: whether any run asks for the pull-away term / dropout in D."""
    found = []
    for role, name, n_layers in (("generator", setup.generator, setup.n_layer_g),
                                 ("discriminator", setup.discriminator, setup.n_layer_d)):
        try:
            arch = get(role, name)
        except ValueError as err:
            found.append(str(err))
            continue
        if arch.convolutional and len(shape) != 3:
            found.append(f"{role}: {name} is convolutional and needs images, not samples of shape {list(shape)}")
            continue
        side = shape[-1] if len(shape) == 3 else None
        if arch.convolutional and not arch.autoencoder and 4 * 2 ** (n_layers - 1) != side:
            key = "n_layer_g" if role == "generator" else "n_layer_d"
            fit = (side // 4).bit_length() if side else None
            fit = fit if fit and 4 * 2 ** (fit - 1) == side else None
            made = 4 * 2 ** (n_layers - 1)
            found.append(f"{role}: {name} with {key} = {n_layers} makes {made}x{made} "
                         f"images, the data are {side}x{side}" + (f"; set {key}: {fit}" if fit else ""))
        if arch.autoencoder and arch.convolutional and side % 2 ** n_layers:
            found.append(f"discriminator: {name} halves the side {n_layers} times (n_layer_d), "
                         f"which {side} does not allow")
    if setup.batch_norm not in NORMALISED:
        found.append(f"unknown batch_norm {setup.batch_norm!r}; known: {list(NORMALISED)}")
    for key in ("nonnegative_s", "positive_s"):
        if getattr(setup, key) not in parametrisations.NONNEGATIVE:
            found.append(f"unknown {key} {getattr(setup, key)!r}; known: {sorted(parametrisations.NONNEGATIVE)}")
    if not 0 <= setup.ema < 1:
        found.append(f"ema must be in [0, 1) (0: off), got {setup.ema}")
    if setup.precision not in PRECISIONS:
        found.append(f"unknown precision {setup.precision!r}; known: {list(PRECISIONS)}")
    if setup.entropy_estimator not in entropy.ESTIMATORS:
        found.append(f"unknown entropy_estimator {setup.entropy_estimator!r}; known: {sorted(entropy.ESTIMATORS)}")
    if setup.gap_gate and not (len(setup.gap_gate) == 2 and setup.gap_gate[0] < setup.gap_gate[1]):
        found.append(f"gap_gate must be [low, high] with low < high (D's loss bounds), got {list(setup.gap_gate)}")
    if setup.lr_decay and not (len(setup.lr_decay) == 3 and 0 < setup.lr_decay[0] <= 1 and setup.lr_decay[1] >= 1
                               and setup.lr_decay[2] >= 0):
        found.append(f"lr_decay must be [factor in (0, 1], every >= 1 steps, start >= 0], got {list(setup.lr_decay)}")
    if setup.energy not in parametrisations.ENERGIES:
        found.append(f"unknown energy {setup.energy!r}; known: {sorted(parametrisations.ENERGIES)}")
    if pull_away and setup.discriminator in DISCRIMINATORS and not DISCRIMINATORS[setup.discriminator].autoencoder:
        found.append(f"pt_weight > 0 needs an autoencoder's code, but discriminator is {setup.discriminator}; "
                     f"use one of {sorted(n for n, a in DISCRIMINATORS.items() if a.autoencoder)}")
    if dropout and setup.discriminator in DISCRIMINATORS and not DISCRIMINATORS[setup.discriminator].dropout:
        found.append(f"dropout_d is implemented for {sorted(n for n, a in DISCRIMINATORS.items() if a.dropout)}, "
                     f"not for discriminator {setup.discriminator}")
    return found
