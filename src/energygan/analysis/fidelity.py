"""Scores of colour images (LSUN): Frechet Inception Distance and kernel inception distance, through
torch-fidelity, the field's reference implementation (never re-implemented here).

The Inception weights are torch-fidelity's own download; where the download is not possible, they are
read from `evaluation.fidelity.inception_weights`, and a missing file is refused by name. Any feature
extractor registered with torch-fidelity (`torch_fidelity.register_feature_extractor`) by a module listed
in `evaluation.fidelity.extensions` can be named in `evaluation.fidelity.feature_extractor`: the tests
register a small one so.
"""

from __future__ import annotations

from pathlib import Path

import torch

INCEPTION = "inception-v3-compat"
INSTALL = ("torch-fidelity is not installed (it needs torchvision built for your torch): "
           "pip install -e '.[fidelity]' (see the README's Evaluation section)")


class FidelityError(RuntimeError):
    pass


class ImageTensors(torch.utils.data.Dataset):
    """uint8 images [N, 3, H, W], as torch-fidelity reads its inputs."""

    def __init__(self, images: torch.Tensor):
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected uint8 images [N, 3, H, W], got {images.dtype} {list(images.shape)}")
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] [N, C, H, W] -> uint8, grey repeated to RGB."""
    images = images.clamp(0, 1).mul(255).round().to(torch.uint8)
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


class Scorer:
    """FID and KID of sample sets against one set of real images, whose features are extracted once (a job
    scores all of its runs against the same reference). `settings`: feature_extractor, inception_weights (a
    path, or None: torch-fidelity's download), kid_subset_size, seed, extensions (modules imported first:
    they register feature extractors). The steps are torch-fidelity's own functions, those that
    `calculate_metrics` chains."""

    def __init__(self, reference: torch.Tensor, settings: dict):
        import importlib
        try:
            from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3
            from torch_fidelity.metric_fid import fid_featuresdict_to_statistics
            from torch_fidelity.utils import create_feature_extractor, resolve_feature_layer_for_metric
        except ImportError as err:
            raise FidelityError(INSTALL) from err
        for module in settings["extensions"]:
            try:
                importlib.import_module(module)
            except ImportError as err:
                raise FidelityError(f"evaluation.fidelity.extensions: cannot import {module!r} ({err}); "
                                    "put it on PYTHONPATH or remove it") from err
        weights = settings.get("inception_weights")
        if weights is not None and not Path(weights).is_file():
            raise FidelityError(f"evaluation.fidelity.inception_weights: {weights} does not exist; download "
                                f"{URL_INCEPTION_V3} there on a machine with internet access, or set it to null to "
                                "let torch-fidelity download it")
        self.options = {"feature_extractor": settings["feature_extractor"], "feature_extractor_weights_path": weights,
                        "kid_subset_size": settings["kid_subset_size"], "rng_seed": settings["seed"],
                        "cuda": torch.cuda.is_available(), "verbose": False}
        self.layers = {metric: resolve_feature_layer_for_metric(metric, **self.options) for metric in ("fid", "kid")}
        try:
            self.extractor = create_feature_extractor(settings["feature_extractor"], sorted(set(self.layers.values())),
                                                      **self.options)
        except OSError as err:  # the weights' download (URLError is an OSError)
            raise FidelityError(f"the {settings['feature_extractor']} weights could not be downloaded ({err}); "
                                f"download {URL_INCEPTION_V3} on a machine with internet access and set "
                                "evaluation.fidelity.inception_weights to its path") from err
        self.reference = self.features(reference)
        self.reference_statistics = fid_featuresdict_to_statistics(self.reference, self.layers["fid"])

    def features(self, images: torch.Tensor) -> dict:
        from torch_fidelity.utils import get_featuresdict_from_dataset
        # save_cpu_ram: no loader worker processes, the images are in memory already
        return get_featuresdict_from_dataset(ImageTensors(images), self.extractor, 64, self.options["cuda"],
                                             save_cpu_ram=True, verbose=False)

    def __call__(self, samples: torch.Tensor) -> dict:
        """{fid, kid, kid_std} of uint8 `samples` [N, 3, H, W]."""
        from torch_fidelity.metric_fid import fid_featuresdict_to_statistics, fid_statistics_to_metric
        from torch_fidelity.metric_kid import kid_featuresdict_to_metric
        features = self.features(samples)
        fid = fid_statistics_to_metric(fid_featuresdict_to_statistics(features, self.layers["fid"]),
                                       self.reference_statistics, False)
        subset = min(self.options["kid_subset_size"], len(samples), len(self.reference[self.layers["kid"]]))
        kid = kid_featuresdict_to_metric(features, self.reference, self.layers["kid"],
                                         **{**self.options, "kid_subset_size": subset})
        return {"fid": float(fid["frechet_inception_distance"]), "kid": float(kid["kernel_inception_distance_mean"]),
                "kid_std": float(kid["kernel_inception_distance_std"])}


def scores(samples: torch.Tensor, reference: torch.Tensor, settings: dict) -> dict:
    """{fid, kid, kid_std} of uint8 `samples` against uint8 `reference` images (see Scorer)."""
    return Scorer(reference, settings)(samples)
