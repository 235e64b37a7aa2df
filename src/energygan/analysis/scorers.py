"""How a dataset's samples are scored, as a registry: per scorer its scores (and which way is better), the
score that ranks runs, what its scoring job reads, the quality floor a working run clears, and the floor
in words. A dataset names its scorer (energygan.data.datasets); every other module asks here, by dataset
or by what a scorer does, never by the scorer's name. No torch at import: the DAG reads it.

- classifier: MNIST's classifier (energygan.analysis.evaluation): inception score, EBGAN's I', a Fréchet
  distance of its features and the digits covered; real digits' inception score is the reference.
- density: a 2D mixture's known density: modes covered, samples near a mode, KL both ways.
- fidelity: colour images through torch-fidelity: FID and KID against real images.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from energygan.data import datasets
from energygan.study.paths import EVALUATOR


@dataclass(frozen=True)
class Scorer:
    name: str
    scores: dict                # score -> True where higher is better, in the order the tables show them
    headline: str               # the score that ranks runs
    works: Callable             # (scores, floor settings, reference) -> whether a run clears the floor
    describe: Callable          # floor settings -> the floor in words
    reads_evaluator: bool = False   # the MNIST classifier, and the prepared test digits it checks D on
    reads_images: bool = False      # real images of the prepared folder, scored against
    known_density: bool = False     # the mixture's density: nothing is read


def _classifier_works(scores: dict, floor: dict, reference: dict) -> bool:
    """All digits covered and an inception score of at least a fraction of real digits' (`reference`)."""
    classes, inception = scores.get("classes_covered", math.nan), scores.get("inception_score", math.nan)
    return bool(classes >= floor["min_classes"]
                and inception >= floor["min_inception_of_real"] * reference["inception_score"])


def _density_works(scores: dict, floor: dict, reference: dict) -> bool:
    """Most of the mixture's `reference["modes"]` covered, most samples within 3 std of a mode."""
    covered, share = scores.get("modes_covered", math.nan), scores.get("high_quality_share", math.nan)
    return bool(covered >= floor["min_modes_share"] * reference["modes"] and share >= floor["min_high_quality_share"])


REGISTRY = {s.name: s for s in [
    Scorer("classifier",
           {"inception_score": True, "ebgan_score": True, "frechet_distance": False, "classes_covered": True,
            "class_kl_uniform": False},
           "frechet_distance", _classifier_works,
           lambda floor: (f"works: >= {floor['min_classes']} digit classes covered and inception score >= "
                          f"{floor['min_inception_of_real']:g} x real digits'"),
           reads_evaluator=True),
    Scorer("fidelity", {"fid": False, "kid": False, "kid_std": False}, "fid",
           lambda scores, floor, reference: bool(scores.get("fid", math.nan) <= floor["max_fid"]),
           lambda floor: f"works: FID <= {floor['max_fid']:g}",
           reads_images=True),
    Scorer("density",
           {"modes_covered": True, "high_quality_share": True, "mode_kl_uniform": False, "kl_p_q": False,
            "kl_q_p": False},
           "kl_p_q", _density_works,
           lambda floor: (f"works: >= {floor['min_modes_share']:.0%} of the modes covered and >= "
                          f"{floor['min_high_quality_share']:.0%} of samples within 3 std of a mode"),
           known_density=True),
]}
ALL_SCORES = [score for scorer in REGISTRY.values() for score in scorer.scores]


def get(name: str) -> Scorer:
    if name not in REGISTRY:
        raise ValueError(f"unknown scorer {name!r}; known: {sorted(REGISTRY)}")
    return REGISTRY[name]


def of(dataset: str) -> Scorer:
    """The scorer of a dataset's samples."""
    return get(datasets.get(dataset).scorer)


def sources(dataset: str) -> list[str]:
    """A scoring job's input folders: the evaluator and the prepared data, the prepared images, or none."""
    scorer, prepared = of(dataset), datasets.get(dataset).prepared
    return [EVALUATOR, prepared] if scorer.reads_evaluator else [prepared] if scorer.reads_images else []


def selected(names, what: str):
    """Which of the dataset `names` (a pandas Series) have a scorer that does `what` (an attribute of
    Scorer: reads_evaluator, known_density, ...): a boolean Series."""
    return names.map(lambda name: getattr(of(name), what))
