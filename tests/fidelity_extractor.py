"""A small feature extractor registered with torch-fidelity through its own extension point: the tests'
stand-in for Inception (whose weights cannot be downloaded here). Importing this module registers it;
`evaluation.fidelity.extensions: [tests.fidelity_extractor]` makes a pipeline job import it."""

import torch
import torch_fidelity

NAME = "energygan-test-pooled"


def pooled_features(x: torch.Tensor) -> torch.Tensor:
    """The features, written out: 4x4 average pooling of the [0, 1] image, flattened (48 numbers)."""
    return torch.nn.functional.adaptive_avg_pool2d(x.double() / 255, 4).flatten(1)


class PooledFeatures(torch_fidelity.FeatureExtractorBase):
    def __init__(self, name, features_list, **kwargs):
        super().__init__(name, features_list)

    @staticmethod
    def get_provided_features_list():
        return ("pooled",)

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return "pooled"

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return None

    def forward(self, x):
        return (pooled_features(x).float(),)


if NAME not in torch_fidelity.registry.FEATURE_EXTRACTORS_REGISTRY:
    torch_fidelity.register_feature_extractor(NAME, PooledFeatures)
