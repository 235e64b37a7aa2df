"""How good are a run's samples? A small MNIST classifier and the scores it gives (inception score,
EBGAN's variant, Frechet distance in its penultimate features, mode coverage), and, for the 2D
mixtures, scores against the known density.

Every score is computed from a fixed number of samples drawn with a fixed seed (the same noise for
every run), in evaluation mode, so that it does not depend on the batch size used to compute it.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from energygan import files, rng
from energygan.analysis import scorers
from energygan.data import datasets
from energygan.study import runfolder

# --- the MNIST classifier --------------------------------------------------------------------

class Classifier(nn.Module):
    """LeNet-like: two 5x5 conv blocks and a 128-unit hidden layer (the features); a few seconds an epoch
    on two CPU cores."""

    feature_dim = 128

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Linear(32 * 4 * 4, self.feature_dim), nn.ReLU())
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(self.feature_dim, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features of images in [0, 1], given as [N, 784] or [N, 1, 28, 28]."""
        return self.conv(x.reshape(-1, 1, 28, 28))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


def train_classifier(images: torch.Tensor, labels: torch.Tensor, epochs: int, batch_size: int, lr: float,
                     seed: int) -> Classifier:
    """Adam on the training images (uint8 [N, 28, 28]), learning rate decaying linearly to 0;
    shuffling and initialisation from `seed`."""
    torch.manual_seed(seed)
    shuffle = torch.Generator().manual_seed(seed)
    model = Classifier()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    x_all = images.float().div(255).reshape(-1, 1, 28, 28)
    total_steps = epochs * math.ceil(len(x_all) / batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1 - step / total_steps)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x_all), generator=shuffle)
        total = 0.0
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            loss = F.cross_entropy(model(x_all[idx]), labels[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(idx)
        print(f"classifier epoch {epoch + 1}/{epochs}: train cross-entropy {total / len(order):.4f}", file=sys.stderr)
    return model.eval()


@torch.no_grad()
def classify(model: Classifier, images: torch.Tensor, batch_size: int = 1000):
    """(class log-probabilities [N, 10], penultimate features [N, 128]) in float64, for images in [0, 1]:
    log-probabilities, because EBGAN's I' weighs log p(y|x) of classes the classifier all but rules out."""
    model.eval()
    log_probs, feats = [], []
    for i in range(0, len(images), batch_size):
        f = model.features(images[i:i + batch_size].float())
        feats.append(f.double())
        log_probs.append(torch.log_softmax(model.head(f).double(), dim=1))
    return torch.cat(log_probs), torch.cat(feats)


def accuracy(model: Classifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    log_probs, _ = classify(model, images.float().div(255))
    return (log_probs.argmax(1) == labels).double().mean().item()


def build_evaluator(prepared_dir, out_dir, epochs: int, batch_size: int, lr: float, seed: int,
                    min_accuracy: float) -> float:
    """Train the classifier on the 60k training images only; write classifier.pt, the test images'
    feature statistics (test_stats.pt) and metrics.json with `test_accuracy`. Fails below `min_accuracy`."""
    from energygan.data import mnist
    train, test = mnist.load_prepared(prepared_dir, "train"), mnist.load_prepared(prepared_dir, "test")
    model = train_classifier(train["images"], train["labels"], epochs, batch_size, lr, seed)
    test_accuracy = accuracy(model, test["images"], test["labels"])
    if test_accuracy < min_accuracy:
        raise RuntimeError(f"evaluator test accuracy {test_accuracy:.4f} is below {min_accuracy}; "
                           "raise evaluation.classifier.epochs in the config")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_probs, features = classify(model, test["images"].float().div(255))
    mean, cov = gaussian_stats(features)
    for name, obj in (("classifier.pt", model.state_dict()),
                      ("test_stats.pt", {"mean": torch.from_numpy(mean), "cov": torch.from_numpy(cov)})):
        files.save_tensors(obj, out_dir / name)
    metrics = {"test_accuracy": test_accuracy, "test_inception_score": inception_score(log_probs),
               "test_ebgan_score": ebgan_score(log_probs), "train_images": len(train["labels"]),
               "test_images": len(test["labels"]), "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed}
    files.write_json(metrics, out_dir / "metrics.json")
    print(f"evaluator test accuracy {test_accuracy:.4f}", file=sys.stderr)
    return test_accuracy


def load_evaluator(evaluator_dir) -> tuple[Classifier, tuple]:
    """The classifier and the test images' (feature mean, covariance), both weights_only loads."""
    model = Classifier()
    weights = Path(evaluator_dir) / "classifier.pt"
    try:
        model.load_state_dict(files.load_tensors(weights, what="evaluator classifier"))
    except RuntimeError as err:  # a torch file of other weights
        raise files.refuse(weights, f"does not hold the evaluator classifier's weights ({err})") from err
    stats = files.load_tensors(Path(evaluator_dir) / "test_stats.pt", ("mean", "cov"), "evaluator statistics")
    return model.eval(), (stats["mean"].numpy(), stats["cov"].numpy())


def evaluator_metrics(evaluator_dir) -> dict:
    """The evaluator's metrics.json: its test accuracy, and the test digits' inception scores (the ceiling a
    run's quality floor is a fraction of)."""
    return files.read_json(Path(evaluator_dir) / "metrics.json", ("test_accuracy", "test_inception_score"),
                           "evaluator metrics")


# --- scores of class probabilities and features -----------------------------------------------

def _log_marginal(log_probs: torch.Tensor) -> torch.Tensor:
    """log p(y) [1, classes], p(y) the mean of p(y|x) over the samples."""
    return torch.logsumexp(log_probs, 0, keepdim=True) - math.log(len(log_probs))


def inception_score(log_probs: torch.Tensor) -> float:
    """exp(E_x KL(p(y|x) || p(y))) from log p(y|x) [N, classes]; 0 log 0 = 0."""
    probs = log_probs.exp()
    kl = torch.where(probs > 0, probs * (log_probs - _log_marginal(log_probs)), 0.0).sum(1)
    return math.exp(kl.mean().item())


def ebgan_score(log_probs: torch.Tensor) -> float:
    """EBGAN's MNIST variant as we read the paper's appendix: E_x KL(p(y) || p(y|x)), no exponential, from
    log p(y|x) [N, classes].

    The KL runs the other way, so confident predictions make it large rather than bounded: each class term
    is computed from the log-probability itself, without a floor that would cap it. Constant predictions
    give 0.
    """
    log_marginal = _log_marginal(log_probs)
    marginal = log_marginal.exp()
    kl = torch.where(marginal > 0, marginal * (log_marginal - log_probs), 0.0).sum(1)
    return kl.mean().item()


def gaussian_stats(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of features [N, d], in float64."""
    x = features.double().numpy()
    return x.mean(0), np.cov(x, rowvar=False)


def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2): the squared 2-Wasserstein distance of
    two Gaussians. The cross term is taken through symmetric eigendecompositions (stable for PSD input)."""
    w1, v1 = np.linalg.eigh(cov1)
    root1 = (v1 * np.sqrt(np.clip(w1, 0, None))) @ v1.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ cov2 @ root1), 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * cross)


def coverage(assignments: torch.Tensor, n_modes: int, min_share: float) -> tuple[int, float]:
    """(modes covered, KL(histogram || uniform)). A mode is covered when its share of the samples is
    at least `min_share` times the uniform share 1 / n_modes."""
    share = torch.bincount(assignments, minlength=n_modes).double() / len(assignments)
    covered = int((share >= min_share / n_modes).sum())
    kl = (torch.xlogy(share, share) - share * math.log(1 / n_modes)).sum().item()
    return covered, kl


def image_scores(log_probs, features, reference: tuple, min_share: float) -> dict:
    covered, kl = coverage(log_probs.argmax(1), log_probs.shape[1], min_share)
    return {"inception_score": inception_score(log_probs), "ebgan_score": ebgan_score(log_probs),
            "frechet_distance": frechet_distance(*gaussian_stats(features), *reference),
            "classes_covered": covered, "class_kl_uniform": kl}


# --- 2D mixtures: scores against the known density ---------------------------------------------

def mixture_scores(samples: torch.Tensor, data, p_samples: torch.Tensor, min_share: float) -> dict:
    """Modes covered, share of high-quality samples (within 3 standard deviations of a mode), and
    KL(P || Q) and KL(Q || P) estimated with a Gaussian KDE of Q of bandwidth = the modes' std.

    The KDE smooths Q, so the KLs of samples from P itself are not 0: the reference rows give that floor.
    """
    distance, nearest = torch.cdist(samples.double(), data.means.double()).min(1)
    good = distance <= 3 * data.std
    covered, kl_modes = coverage(nearest[good], len(data.means), min_share) if good.any() else (0, math.nan)
    log_q_at_p = datasets.log_gaussian_mixture(p_samples, samples, data.std)
    log_q_at_q = datasets.log_gaussian_mixture(samples, samples, data.std, leave_one_out=True)
    return {"modes_covered": covered, "high_quality_share": good.double().mean().item(),
            "mode_kl_uniform": kl_modes,
            "kl_p_q": (data.log_density(p_samples) - log_q_at_p).mean().item(),
            "kl_q_p": (log_q_at_q - data.log_density(samples)).mean().item()}


# --- jobs --------------------------------------------------------------------------------------

def evaluation_noise(samples: int, z_dim: int, seed: int) -> torch.Tensor:
    """The same [samples, z_dim] standard normal noise for every run evaluated with `seed`."""
    return rng.normal(torch.tensor([seed]), rng.EVALUATION, 0, (samples, z_dim))[0]


def target_samples(data, settings: dict, draw: int = 0) -> torch.Tensor:
    """`settings["samples"]` samples of a mixture P from the evaluation seed; draw 0 is what runs are
    scored against, other draws are fresh samples from P."""
    return data.sample(torch.tensor([settings["seed"]]), draw, settings["samples"])[0]


def nan_scores(dataset: str) -> dict:
    return dict.fromkeys(scorers.of(dataset).scores, math.nan)


def classifier_view(dataset: datasets.Dataset, x: torch.Tensor) -> torch.Tensor:
    """Generator samples as the evaluator's inputs: [N, 784] in [0, 1], without any padding."""
    return dataset.stored_view(dataset.to_unit(x)).reshape(len(x), -1)


def real_images(dataset: str, prepared_dir: str | None, settings: dict, draw: int) -> torch.Tensor:
    """`fidelity.real_images` training images of a colour dataset as uint8 [N, 3, H, W], drawn with the
    evaluation seed; draw 0 is what runs are scored against, draw 1 a disjoint-in-expectation fresh set."""
    data = datasets.load(dataset, prepared_dir)
    count = settings["fidelity"]["real_images"]
    index = rng.integers(torch.tensor([settings["seed"]]), rng.EVALUATION, 2 + draw, (count,), len(data))[0]
    return data.images_at(index.numpy())


def fidelity_settings(settings: dict) -> dict:
    return {**settings["fidelity"], "seed": settings["seed"]}


def held_out(dataset: str, prepared_dir: str | None, settings: dict, count: int) -> torch.Tensor:
    """`count` real samples no run trained on, in the generator's range: test digits (classifier-scored
    datasets, as the dataset trains on them: padded for mnist32) or fresh samples from P (a known density).
    Colour images have no test split here: their scoring job checks D on the images it scores against."""
    spec = datasets.get(dataset)
    if scorers.of(dataset).reads_evaluator:
        return spec.from_unit(datasets.load(dataset, prepared_dir, "test").images[:count].float() / 255)
    return target_samples(datasets.mixture(dataset), settings, draw=1)[:count]


def off_data(dataset: str, settings: dict, count: int) -> torch.Tensor:
    """`count` uniform inputs off the data, seeded: images of uniform pixels, or points uniform on the box
    that holds the mixture's modes with a margin of one unit."""
    spec = datasets.get(dataset)
    u = rng.uniform(torch.tensor([settings["seed"]]), rng.EVALUATION, 4, (count, *spec.shape))[0]
    if spec.images:
        return spec.from_unit(u)
    means = datasets.mixture(dataset).means
    low, high = means.min(0).values - 1, means.max(0).values + 1
    return low + (high - low) * u


def evaluate_runs(run_dirs: list[str], dataset: str, settings: dict, sources: list[str],
                  record: str | None = None) -> None:
    """Write metrics.json into each run folder: the scores, whether the run works (its scorer's floor,
    energygan.analysis.scorers) and its discriminator's checks (quality.discriminator_checks). `sources`: the
    evaluator's folder and the prepared data (classifier-scored datasets), the prepared images
    (fidelity-scored ones), nothing (a known density). A diverged run (or one whose samples are not finite)
    gets NaN scores and keeps its status: it is reported, not dropped. `record`: where the job's record goes
    once every run is scored: each run's status, and the job's settings and wall time."""
    from energygan.analysis import fidelity, quality
    t0, statuses = time.time(), {}
    spec, scorer = datasets.get(dataset), scorers.of(dataset)
    prepared_dir = sources[-1] if sources else None
    checked = settings["discriminator"]["samples"]
    floor, reference = settings["quality_floor"][scorer.name], {}
    if scorer.reads_evaluator:
        model, test_stats = load_evaluator(sources[0])
        reference = {"inception_score": evaluator_metrics(sources[0])["test_inception_score"]}
    elif scorer.reads_images:
        real = real_images(dataset, prepared_dir, settings, draw=0)
        fid = fidelity.Scorer(real, fidelity_settings(settings))
    else:
        data = datasets.mixture(dataset)
        p_samples = target_samples(data, settings)
        reference = {"modes": len(data.means)}
    data_in = spec.from_unit(real[:checked].float() / 255) if scorer.reads_images else \
        held_out(dataset, prepared_dir, settings, checked)
    noise = off_data(dataset, settings, checked)
    for run_dir in map(Path, run_dirs):
        manifest = runfolder.read_manifest(run_dir)
        scores, checks = nan_scores(dataset), dict.fromkeys(quality.CHECKS)
        if manifest["status"] == "ok":
            generate = runfolder.load_generator(run_dir / runfolder.GENERATOR)
            x = generate(evaluation_noise(settings["samples"], manifest["setup"]["z_dim"], settings["seed"]))
            if torch.isfinite(x).all():
                if scorer.reads_evaluator:
                    log_probs, feats = classify(model, classifier_view(spec, x), settings["batch_size"])
                    scores = image_scores(log_probs, feats, test_stats, settings["min_share"])
                elif scorer.reads_images:
                    scores = fid(fidelity.to_uint8(spec.to_unit(x)))
                else:
                    scores = mixture_scores(x, data, p_samples, settings["min_share"])
                # D is read on the samples of the generator it was trained against (G itself where G's
                # weights are averaged), from the same noise
                adversary = runfolder.load_generator(runfolder.adversary(run_dir))(
                    evaluation_noise(checked, manifest["setup"]["z_dim"], settings["seed"]))
                checks = quality.discriminator_checks(
                    runfolder.load_discriminator(run_dir / runfolder.DISCRIMINATOR), data_in, adversary, noise,
                    quality.loss_scale(manifest["run"]["loss"]), settings["discriminator"]["dead_below"])
        metrics = {"status": manifest["status"], "samples": settings["samples"], "eval_seed": settings["seed"],
                   **scores, "works": scorer.works(scores, floor, reference), **checks}
        files.write_json(metrics, run_dir / runfolder.METRICS)
        statuses[str(run_dir)] = manifest["status"]
        print(f"{run_dir.name}: " + ", ".join(f"{k} {v:.4g}" for k, v in {**scores, **checks}.items()
                                             if isinstance(v, float)) + f", works {metrics['works']}", file=sys.stderr)
    if record is not None:
        files.write_json({"dataset": dataset, "settings": settings, "runs": statuses,
                          "wall_time_s": round(time.time() - t0, 2)}, record)


def reference_scores(dataset: str, settings: dict, prepared_dir: str | None, evaluator_dir: str | None):
    """Rows of the same scores on real data, the ceiling a reader compares runs with."""
    import pandas as pd
    rows = []
    if scorers.of(dataset).reads_images:
        from energygan.analysis import fidelity
        scored, fresh = real_images(dataset, prepared_dir, settings, 0), real_images(dataset, prepared_dir, settings, 1)
        rows.append({"reference": "fresh training images against the scored set", "samples": len(fresh),
                     **fidelity.scores(fresh, scored, fidelity_settings(settings))})
    elif scorers.of(dataset).reads_evaluator:  # real digits, at the evaluator's own size
        from energygan.data import mnist
        model, stats = load_evaluator(evaluator_dir)
        accuracy_of_evaluator = evaluator_metrics(evaluator_dir)["test_accuracy"]
        test = mnist.load_prepared(prepared_dir, "test")["images"].float().div(255)
        train = mnist.load_prepared(prepared_dir, "train")["images"].float().div(255)
        subset = rng.integers(torch.tensor([settings["seed"]]), rng.EVALUATION, 1, (settings["samples"],),
                              len(train))[0]
        for name, images in (("test set against itself", test),
                             ("training subset against the test set", train[subset])):
            log_probs, feats = classify(model, images, settings["batch_size"])
            rows.append({"reference": name, "samples": len(images),
                         **image_scores(log_probs, feats, stats, settings["min_share"]),
                         "classifier_test_accuracy": accuracy_of_evaluator})
    else:
        data = datasets.mixture(dataset)
        p_samples, fresh = target_samples(data, settings), target_samples(data, settings, draw=1)
        rows.append({"reference": "fresh samples from P", "samples": settings["samples"],
                     **mixture_scores(fresh, data, p_samples, settings["min_share"])})
    return pd.DataFrame(rows)
