import pytest

from energygan.engine import architectures
from energygan.engine.spec import Setup

IMAGE32, IMAGE64, PLANE = (1, 32, 32), (3, 64, 64), (2,)


def problems(shape, pull_away=False, dropout=False, **setup):
    return architectures.problems(Setup(**setup), shape, pull_away, dropout)


def test_every_registered_network_builds_for_k_runs_and_records_how():
    setup = Setup(generator="dcgan", discriminator="dcgan", z_dim=4, n_layer_g=4, size_g=2, n_layer_d=4, size_d=2)
    for role, names in architectures.ROLES.items():
        for name, arch in names.items():
            shape = IMAGE32 if arch.convolutional else PLANE
            arguments = architectures.build_arguments(role, Setup(**{**setup.__dict__, role: name,
                                                                    "n_layer_d": 3 if arch.autoencoder else 4}), shape)
            net = architectures.build(role, name, 3, arguments)
            assert all(p.shape[0] == 3 for p in net.state_dict().values()), (role, name)
            assert getattr(net, "autoencoder", False) == arch.autoencoder


def test_settings_that_cannot_train_together_are_named():
    assert problems(IMAGE32, generator="dcgan", discriminator="dcgan", n_layer_g=4, n_layer_d=4) == []
    assert problems(IMAGE64, generator="dcgan", discriminator="conv_autoencoder", n_layer_g=5, n_layer_d=3) == []
    assert problems(IMAGE32, generator="dcgan", n_layer_g=5) == [
        "generator: dcgan with n_layer_g = 5 makes 64x64 images, the data are 32x32; set n_layer_g: 4"]
    assert problems((1, 28, 28), discriminator="dcgan", n_layer_d=4) == [
        "discriminator: dcgan with n_layer_d = 4 makes 32x32 images, the data are 28x28"]
    assert problems(PLANE, discriminator="conv_autoencoder") == [
        "discriminator: conv_autoencoder is convolutional and needs images, not samples of shape [2]"]
    assert problems((1, 28, 28), discriminator="conv_autoencoder", n_layer_d=3) == [
        "discriminator: conv_autoencoder halves the side 3 times (n_layer_d), which 28 does not allow"]
    assert problems(PLANE, pull_away=True) == [
        ("pt_weight > 0 needs an autoencoder's code, but discriminator is mlp; "
         "use one of ['autoencoder', 'conv_autoencoder']")]
    assert problems(IMAGE32, dropout=True, discriminator="dcgan", n_layer_d=4) == [
        "dropout_d is implemented for ['autoencoder', 'mlp'], not for discriminator dcgan"]
    assert problems(PLANE, generator="vae") == ["unknown generator architecture 'vae'; known: ['dcgan', 'mlp']"]
    assert problems(PLANE, energy="l1") == ["unknown energy 'l1'; known: ['l2_norm', 'mean_squared']"]
    with pytest.raises(ValueError, match="unknown discriminator architecture 'gan'"):
        architectures.get("discriminator", "gan")
