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
           "pip install -e '.[fidelity]', or see README, Scores of colour images")


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


def scores(samples: torch.Tensor, reference: torch.Tensor, settings: dict) -> dict:
    """{fid, kid, kid_std} of uint8 `samples` against uint8 `reference` images. `settings`: feature_extractor,
    inception_weights (a path or None: torch-fidelity's download), kid_subset_size, seed, extensions (modules
    to import first: they register feature extractors)."""
    import importlib
    try:
        import torch_fidelity
        from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3
    except ImportError as err:
        raise FidelityError(INSTALL) from err
    for module in settings["extensions"]:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise FidelityError(f"evaluation.fidelity.extensions: cannot import {module!r} ({err}); "
                                "put it on PYTHONPATH or remove it") from err
    extractor, weights = settings["feature_extractor"], settings.get("inception_weights")
    if weights is not None and not Path(weights).is_file():
        raise FidelityError(f"evaluation.fidelity.inception_weights: {weights} does not exist; download "
                            f"{URL_INCEPTION_V3} there on a machine with internet access, or set it to null to "
                            "let torch-fidelity download it")
    subset = min(settings["kid_subset_size"], len(samples), len(reference))
    try:
        metrics = torch_fidelity.calculate_metrics(
            input1=ImageTensors(samples), input2=ImageTensors(reference), fid=True, kid=True,
            feature_extractor=extractor, feature_extractor_weights_path=weights, kid_subset_size=subset,
            cuda=torch.cuda.is_available(), cache=False, verbose=False, rng_seed=settings["seed"],
            save_cpu_ram=True)  # no loader worker processes: the images are in memory already
    except OSError as err:  # the weights' download (URLError is an OSError)
        raise FidelityError(f"the {extractor} weights could not be downloaded ({err}); download {URL_INCEPTION_V3} "
                            "on a machine with internet access and set evaluation.fidelity.inception_weights "
                            "to its path") from err
    return {"fid": float(metrics["frechet_inception_distance"]),
            "kid": float(metrics["kernel_inception_distance_mean"]),
            "kid_std": float(metrics["kernel_inception_distance_std"])}
