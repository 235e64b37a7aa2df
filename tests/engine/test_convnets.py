"""The stacked convolutional networks against torch's own layers, one run at a time."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from energygan.engine import convnets


def channels(stack):
    """A ConvStack's channel widths, from its weights: conv [K, out, in], transposed [K, in, out]."""
    pairs = [(l.weight.shape[1], l.weight.shape[2])[:: 1 if l.transposed else -1] for l in stack.layers]
    return [pairs[0][0]] + [out for _, out in pairs]


def plain(stack, k, activation, last_activation=False):
    """Run k of a ConvStack as torch.nn layers with its weights copied in: torch's convolution and batch norm."""
    layers = []
    for i, layer in enumerate(stack.layers):
        c_in, c_out = channels(stack)[i:i + 2]
        kind = nn.ConvTranspose2d if layer.transposed else nn.Conv2d
        conv = kind(c_in, c_out, 4, layer.stride, layer.padding, bias=layer.bias is not None)
        with torch.no_grad():
            conv.weight.copy_(layer.weight[k])
            if layer.bias is not None:
                conv.bias.copy_(layer.bias[k])
        layers.append(conv)
        if str(i) in stack.norms:
            norm, bn = stack.norms[str(i)], nn.BatchNorm2d(c_out)
            with torch.no_grad():
                for name in ("weight", "bias", "running_mean", "running_var"):
                    getattr(bn, name).copy_(getattr(norm, name)[k])
            layers.append(bn)
        if i < len(stack.layers) - 1 or last_activation:
            layers.append(activation)
    return nn.Sequential(*layers)


def reset(net, runs):
    net.reset([torch.Generator().manual_seed(10 + k) for k in range(runs)])
    with torch.no_grad():  # non-trivial batch norm parameters, so that a mix-up between runs would show
        for module in net.modules():
            if isinstance(module, convnets.StackedBatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_()
    return net


LEAKY, RELU = nn.LeakyReLU(0.2), nn.ReLU()


def test_the_paper_sizes_give_the_commonly_reported_channels():
    g = convnets.DCGANGenerator(1, 100, [3, 64, 64], n_layers=5, size=64)
    d = convnets.DCGANDiscriminator(1, [3, 64, 64], n_layers=5, size=64)
    ae = convnets.ConvAutoencoder(1, [3, 64, 64], n_layers=3, size=64)
    assert channels(g.net) == [100, 512, 256, 128, 64, 3]
    assert channels(d.net) == [3, 64, 128, 256, 512, 1]
    assert channels(ae.encoder) == [3, 64, 128, 256] and channels(ae.decoder) == [256, 128, 64, 3]
    # batch normalization: none on D's input layer, G's output layer, the decoder's output layer, s(x)
    assert sorted(g.net.norms) == ["0", "1", "2", "3"] and sorted(d.net.norms) == ["1", "2", "3"]
    assert sorted(ae.encoder.norms) == ["1", "2"] and sorted(ae.decoder.norms) == ["0", "1"]


@pytest.mark.parametrize("side, n_layers", [(32, 4), (64, 5)])
def test_output_shapes(side, n_layers):
    k, b = 3, 5
    g = reset(convnets.DCGANGenerator(k, 8, [1, side, side], n_layers, 4), k)
    d = reset(convnets.DCGANDiscriminator(k, [1, side, side], n_layers, 4), k)
    ae = reset(convnets.ConvAutoencoder(k, [1, side, side], 3, 4), k)
    x = g(torch.randn(k, b, 8))
    assert x.shape == (k, b, 1, side, side)
    assert d(x).shape == (k, b)
    energy, code = ae(x)
    assert energy.shape == (k, b) and code.shape == (k, b, 16 * (side // 8) ** 2)


def test_the_conv_autoencoders_energy_follows_the_setting():
    x = torch.rand(2, 3, 1, 16, 16)
    mean = reset(convnets.ConvAutoencoder(2, [1, 16, 16], 2, 4), 2)
    norm = convnets.ConvAutoencoder(2, [1, 16, 16], 2, 4, energy="l2_norm")
    norm.load_state_dict(mean.state_dict())
    torch.testing.assert_close(norm(x)[0], (mean(x)[0] * 256).sqrt())  # ||e|| = sqrt(256 mean(e^2))


@pytest.mark.parametrize("training", [True, False])
def test_every_network_equals_torch_layers_run_by_run(training):
    """Batch statistics per run in training mode (runs on different scales, so pooling would show), running
    statistics in evaluation mode; the running statistics' update too."""
    k, b, side = 3, 6, 32
    g = reset(convnets.DCGANGenerator(k, 8, [1, side, side], 4, 4), k).train(training)
    d = reset(convnets.DCGANDiscriminator(k, [1, side, side], 4, 4), k).train(training)
    ae = reset(convnets.ConvAutoencoder(k, [1, side, side], 3, 4), k).train(training)
    refs = [(plain(g.net, r, RELU).train(training), plain(d.net, r, LEAKY).train(training),
             plain(ae.encoder, r, LEAKY, last_activation=True).train(training),
             plain(ae.decoder, r, RELU).train(training)) for r in range(k)]
    z = torch.randn(k, b, 8) * torch.tensor([1.0, 5.0, 0.2])[:, None, None]
    x = torch.rand(k, b, 1, side, side) * 2 - 1
    samples, s = g(z), d(x)
    energy, code = ae(x)
    for r, (g_ref, d_ref, enc_ref, dec_ref) in enumerate(refs):
        torch.testing.assert_close(samples[r], g_ref(z[r][..., None, None]), atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(s[r], d_ref(x[r]).reshape(b), atol=1e-5, rtol=1e-4)
        h = enc_ref(x[r])
        torch.testing.assert_close(code[r], h.flatten(1), atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(energy[r], ((dec_ref(h) - x[r]) ** 2).mean((1, 2, 3)), atol=1e-5, rtol=1e-4)
        if training:
            for stacked, ref in ((g.net, g_ref), (d.net, d_ref), (ae.encoder, enc_ref), (ae.decoder, dec_ref)):
                norms = [m for m in ref if isinstance(m, nn.BatchNorm2d)]
                for norm, bn in zip(stacked.norms.values(), norms, strict=True):
                    torch.testing.assert_close(norm.running_mean[r], bn.running_mean)
                    torch.testing.assert_close(norm.running_var[r], bn.running_var)


def test_grouped_layout_round_trips():
    x = torch.randn(3, 4, 2, 5, 5)
    grouped = convnets.grouped(x)
    assert grouped.shape == (4, 6, 5, 5)
    torch.testing.assert_close(grouped[:, 2:4], x[1])  # run 1's channels
    torch.testing.assert_close(convnets.ungrouped(grouped, 3), x)


def test_initialisation_is_dcgans_and_each_runs_own():
    conv = convnets.StackedConv(2, 64, 64, 2, 1)
    conv.reset([torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)])
    assert conv.weight[0].std().item() == pytest.approx(0.02, rel=0.02) and (conv.bias == 0).all()
    again = convnets.StackedConv(1, 64, 64, 2, 1)
    again.reset([torch.Generator().manual_seed(1)])
    assert torch.equal(again.weight[0], conv.weight[1])
    assert F.mse_loss(conv.weight[0], conv.weight[1]) > 1e-4
