"""What a run is, as plain records: `Run` (what may differ between runs that train together) and `Setup`
(what they share). Read by the config expansion, the plan and the DAG, which import no torch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    """What may differ between runs that train together."""
    run_id: str
    seed: int
    loss: str | dict = "logistic"
    f: str | dict = "softplus"
    lr: float = 2e-4
    lr_g: float | None = None           # the generator's learning rate where it differs from D's (`lr`)
    optim_d: str = "adam"
    optim_g: str = "adam"
    dropout_d: bool = False
    pt_weight: float = 0.0
    # the calibrated EBGAN (energygan.engine.entropy): minus this times the entropy of the generator's batch
    # is added to the generator's loss
    entropy_weight: float = 0.0

    @property
    def generator_lr(self) -> float:
        return self.lr if self.lr_g is None else self.lr_g


@dataclass(frozen=True)
class Setup:
    """What runs that train together share: data, architecture (EBGAN Table 1 names), schedule."""
    dataset: str = "mnist"              # a name in energygan.data.datasets
    discriminator: str = "mlp"          # a name in energygan.engine.architectures.DISCRIMINATORS
    generator: str = "mlp"              # a name in energygan.engine.architectures.GENERATORS
    z_dim: int = 32
    n_layer_g: int = 3
    size_g: int = 256
    n_layer_d: int = 3
    size_d: int = 128
    batch_size: int = 64
    steps: int = 500
    d_steps: int = 1                    # discriminator steps per generator step
    dropout: float = 0.5
    batch_norm: str = "none"            # none | generator | both: which nets (architectures.NORMALISED, and why)
    # how an MLP's output becomes s >= 0 where the loss needs it: parametrisations.NONNEGATIVE
    nonnegative_s: str = "square"
    positive_s: str = "softplus"        # ... and s > 0 where only f needs it (the power f)
    # decay of an exponential moving average of G's weights (0: off); the fixed samples, the saved
    # generators (scored and probed) and the snapshots are the average's, D trains against G itself
    ema: float = 0.0
    energy: str = "mean_squared"        # an autoencoder's energy of its reconstruction error: parametrisations.ENERGIES
    # the G step goes on from the last D step's fake batch (one generator forward fewer a step, as most
    # public GAN loops do), so both steps see the same noise: off, the paper's separate draws
    reuse_fake: bool = False
    precision: str = "fp32"             # fp32 | tf32 | bf16: energygan.engine.precision
    adam_betas: tuple = (0.5, 0.999)
    # (factor, every, start): each learning rate times factor every `every` steps from step `start` on; (): none
    lr_decay: tuple = ()
    # (low, high): D updates only while its last loss is above low and G only while it is below high, per run
    # (Dai et al.'s control of the calibrated EBGAN by D's loss); (): both update at every step
    gap_gate: tuple = ()
    entropy_estimator: str = "kozachenko_leonenko"  # the calibrated EBGAN's: energygan.engine.entropy.ESTIMATORS
    entropy_k: int = 1                  # ... and its neighbours
    checkpoint_every: int = 100
    log_every: int = 10
    snapshots: tuple = ()               # fractions of `steps` at which each run's G and D are kept as well

    @classmethod
    def from_dict(cls, settings: dict) -> Setup:
        """From JSON (a job's settings, a manifest), where tuples come back as lists."""
        return cls(**{**settings, "adam_betas": tuple(settings.get("adam_betas", cls.adam_betas)),
                      **{key: tuple(settings.get(key, ())) for key in ("snapshots", "lr_decay", "gap_gate")}})

    @property
    def snapshot_steps(self) -> list[int]:
        return sorted({round(fraction * self.steps) for fraction in self.snapshots} - {0, self.steps})
