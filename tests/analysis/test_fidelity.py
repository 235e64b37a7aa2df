"""FID and KID through torch-fidelity (run by `make test` in .venv-fidelity: see the Makefile), with a small
feature extractor registered through torch-fidelity's own extension point, against independent
computations of both scores on the same features."""

import sys

import numpy as np
import pytest
import torch

from energygan.analysis import evaluation, fidelity

try:  # PyPI's torchvision does not load beside the CPU build of torch 2.13.0 (RuntimeError, not ImportError)
    from tests.fidelity_extractor import NAME, PooledFeatures, pooled_features
except Exception as err:  # noqa: BLE001 (whatever breaks the import skips these tests)
    NAME, REASON = None, (f"torch-fidelity does not import here ({type(err).__name__}); "
                          "make test runs it in .venv-fidelity")

needs_fidelity = pytest.mark.skipif(NAME is None, reason=REASON if NAME is None else "")


def images(n, seed, brightness=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, 16, 16, generator=g) * 255 * brightness).round().to(torch.uint8)


def unbiased_mmd2_poly(x: np.ndarray, y: np.ndarray) -> float:
    """KID on one subset holding every sample: the unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3."""
    d = x.shape[1]
    kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
    m, n = len(x), len(y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.mean())


SETTINGS = {"feature_extractor": NAME, "inception_weights": None, "kid_subset_size": 60, "seed": 0, "extensions": []}


@pytest.mark.fidelity
@needs_fidelity
def test_fid_and_kid_equal_independent_computations_on_the_same_features():
    samples, reference = images(60, 1, brightness=0.7), images(60, 2)
    scores = fidelity.scores(samples, reference, SETTINGS)
    fs, fr = pooled_features(samples).float().double(), pooled_features(reference).float().double()
    expected_fid = evaluation.frechet_distance(*evaluation.gaussian_stats(fs), *evaluation.gaussian_stats(fr))
    assert scores["fid"] == pytest.approx(expected_fid, rel=1e-4)
    assert scores["kid"] == pytest.approx(unbiased_mmd2_poly(fs.numpy(), fr.numpy()), rel=1e-4, abs=1e-7)
    assert scores["kid_std"] < 1e-5  # every subset holds all 60 samples (in another order: rounding only)
    # the same images score (close to) zero; darker samples score worse than fresh draws of the same law
    same = fidelity.scores(reference, reference, SETTINGS)
    assert same["fid"] == pytest.approx(0.0, abs=1e-6)
    assert fidelity.scores(images(60, 3), reference, SETTINGS)["fid"] < scores["fid"]


@pytest.mark.fidelity
@needs_fidelity
def test_a_scorer_extracts_the_reference_features_once(monkeypatch):
    seen = []
    forward = PooledFeatures.forward
    monkeypatch.setattr(PooledFeatures, "forward", lambda self, x: (seen.append(len(x)), forward(self, x))[1])
    scorer = fidelity.Scorer(images(60, 2), SETTINGS)
    first, second = scorer(images(60, 1)), scorer(images(60, 3))
    assert sum(seen) == 3 * 60  # the reference once, then each sample set
    assert first == fidelity.scores(images(60, 1), images(60, 2), SETTINGS) and second["fid"] < first["fid"]


@pytest.mark.fidelity
@needs_fidelity
def test_missing_inception_weights_are_refused_by_name(tmp_path):
    missing = tmp_path / "weights-inception.pth"
    with pytest.raises(fidelity.FidelityError,
                       match="evaluation.fidelity.inception_weights: .*weights-inception.pth does not exist"):
        fidelity.scores(images(4, 1), images(4, 2), {**SETTINGS, "feature_extractor": fidelity.INCEPTION,
                                                      "inception_weights": str(missing)})


def test_without_torch_fidelity_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # import torch_fidelity then raises ImportError
    with pytest.raises(fidelity.FidelityError, match=r"pip install -e '\.\[fidelity\]'"):
        fidelity.scores(images(4, 1), images(4, 2), SETTINGS)


def test_images_are_given_to_torch_fidelity_as_uint8_rgb():
    grey = torch.tensor([0.0, 0.5, 1.0, 1.2]).reshape(1, 1, 2, 2)
    rgb = fidelity.to_uint8(grey)
    assert rgb.dtype == torch.uint8 and rgb.shape == (1, 3, 2, 2)
    assert rgb[0, :, 0, 1].tolist() == [128, 128, 128] and rgb[0, 2, 1, 1] == 255
    with pytest.raises(ValueError, match="expected uint8 images"):
        fidelity.ImageTensors(grey)
