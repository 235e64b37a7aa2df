import json
import math
from dataclasses import asdict

import numpy as np
import pytest
import torch

from energygan.analysis import evaluation
from energygan.data import datasets
from energygan.engine import spec
from energygan.study import training_job

from tests.conftest import score_settings


def one_hot(classes, n=10):
    return torch.nn.functional.one_hot(torch.as_tensor(classes), n).double()


def logs(probs) -> torch.Tensor:
    """log p(y|x), as the scores take them (log 0 = -inf)."""
    return torch.as_tensor(probs, dtype=torch.float64).log()


# --- inception score and EBGAN's variant -------------------------------------------------------

def test_inception_score_of_confident_balanced_predictions_is_the_number_of_classes():
    assert evaluation.inception_score(logs(one_hot(torch.arange(1000) % 10))) == pytest.approx(10.0, rel=1e-12)
    assert evaluation.inception_score(logs(one_hot(torch.arange(300) % 3, n=10))) == pytest.approx(3.0, rel=1e-12)


def test_inception_score_of_constant_predictions_is_one():
    soft = torch.softmax(torch.randn(10, dtype=torch.float64), 0)
    assert evaluation.inception_score(logs(soft.expand(500, 10))) == pytest.approx(1.0, abs=1e-12)
    assert evaluation.inception_score(logs(one_hot([4] * 500))) == pytest.approx(1.0, abs=1e-12)


def test_inception_score_matches_a_hand_computation():
    probs = torch.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=torch.float64)
    # p(y) = (0.75, 0.25); KL rows: 0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25), ln(1/0.75)
    kl = [0.5 * math.log(2 / 3) + 0.5 * math.log(2), math.log(4 / 3)]
    assert evaluation.inception_score(logs(probs)) == pytest.approx(math.exp(sum(kl) / 2), rel=1e-12)


def test_ebgan_score_runs_the_kl_the_other_way():
    probs = torch.tensor([[0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
    marginal = [0.7, 0.3]
    kl = [sum(m * math.log(m / p) for m, p in zip(marginal, row)) for row in probs.tolist()]
    assert evaluation.ebgan_score(logs(probs)) == pytest.approx(sum(kl) / 2, rel=1e-12)
    assert evaluation.ebgan_score(logs(torch.full((50, 10), 0.1))) == pytest.approx(0, abs=1e-12)


def test_ebgan_score_has_no_floor_where_a_class_is_all_but_ruled_out():
    # confident logits: log p(y|x) down to about -60, where a floor of 1e-12 (log -27.6) used to cap each term
    logits = torch.tensor([[30.0, 0.0, -30.0], [-30.0, 30.0, 0.0], [0.0, -25.0, 25.0], [1.0, 2.0, 3.0]],
                          dtype=torch.float64)
    log_probs = torch.log_softmax(logits, 1)
    assert log_probs.min() < math.log(1e-12)
    rows = [[math.exp(v) for v in row] for row in logits.tolist()]
    rows = [[math.log(v / sum(row)) for v in row] for row in rows]  # log p(y|x) by hand, in float64
    marginal = [sum(math.exp(row[k]) for row in rows) / len(rows) for k in range(3)]
    expected = sum(sum(m * (math.log(m) - row[k]) for k, m in enumerate(marginal)) for row in rows) / len(rows)
    assert evaluation.ebgan_score(log_probs) == pytest.approx(expected, rel=1e-9)
    floored = sum(sum(m * (math.log(m) - max(row[k], math.log(1e-12))) for k, m in enumerate(marginal))
                  for row in rows) / len(rows)
    assert expected - floored > 1.0  # the floor would have lowered I' by more than one nat


# --- Frechet distance -------------------------------------------------------------------------

def test_frechet_distance_of_a_set_with_itself_is_zero():
    generator = torch.Generator().manual_seed(0)
    features = (torch.randn(2000, 16, dtype=torch.float64, generator=generator)
                @ torch.randn(16, 16, dtype=torch.float64, generator=generator))
    mu, cov = evaluation.gaussian_stats(features)
    # eigh perturbs each eigenvalue of C^2 by about eps * lambda_max^2, so the square root of a small
    # one is off by up to sqrt(eps) * lambda_max: that, per dimension and twice over, is the bound
    lambda_max = np.linalg.eigvalsh(cov).max()
    bound = 2 * cov.shape[0] * math.sqrt(np.finfo(np.float64).eps) * lambda_max
    assert evaluation.frechet_distance(mu, cov, mu, cov) == pytest.approx(0, abs=bound)


def test_frechet_distance_matches_the_closed_form_for_gaussians():
    # commuting covariances: W2^2 = |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2
    rotation, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(5, 5)))
    a, b = np.array([1.0, 2.0, 0.5, 3.0, 4.0]), np.array([2.0, 0.5, 0.5, 1.0, 9.0])
    cov1, cov2 = rotation @ np.diag(a) @ rotation.T, rotation @ np.diag(b) @ rotation.T
    mu1, mu2 = np.arange(5.0), np.arange(5.0) + np.array([1, 0, 0, 2, 0])
    expected = 5 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert evaluation.frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-10)
    # 1D with different variances, no commuting shortcut needed: (m1-m2)^2 + (s1-s2)^2
    assert evaluation.frechet_distance(np.zeros(1), np.eye(1) * 4, np.ones(1), np.eye(1) * 9) == pytest.approx(2.0)


# --- coverage --------------------------------------------------------------------------------

def test_coverage_counts_modes_above_the_share_and_kl_to_uniform():
    assignments = torch.tensor([0] * 50 + [1] * 45 + [2] * 5)  # shares 0.5, 0.45, 0.05 of 4 modes
    covered, kl = evaluation.coverage(assignments, 4, min_share=0.5)  # threshold 0.125
    assert covered == 2
    assert kl == pytest.approx(sum(p * math.log(p / 0.25) for p in (0.5, 0.45, 0.05)), rel=1e-12)


# --- batch-size independence and the classifier ------------------------------------------------

def test_scores_do_not_depend_on_the_batch_size():
    torch.manual_seed(0)
    model = evaluation.Classifier().eval()
    images = torch.rand(600, 784)
    reference = evaluation.gaussian_stats(torch.randn(800, 128, dtype=torch.float64))
    results = []
    for batch in (7, 100, 600):
        probs, feats = evaluation.classify(model, images, batch)
        results.append(evaluation.image_scores(probs, feats, reference, min_share=0.1))
    for other in results[1:]:
        for key, value in results[0].items():
            assert other[key] == pytest.approx(value, rel=1e-6, abs=1e-9)


def test_evaluation_noise_is_fixed_by_seed_and_shared_by_runs():
    a, b = evaluation.evaluation_noise(100, 8, 5), evaluation.evaluation_noise(100, 8, 5)
    assert torch.equal(a, b)
    assert not torch.equal(a, evaluation.evaluation_noise(100, 8, 6))
    assert abs(a.mean().item()) < 0.2 and abs(a.std().item() - 1) < 0.1


def test_build_evaluator_refuses_a_classifier_below_the_accuracy_floor(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 64), ("test", 32)):
        torch.save({"images": torch.from_numpy(rng.integers(0, 256, (n, 28, 28), dtype="uint8")),
                    "labels": torch.from_numpy(rng.integers(0, 10, n))}, tmp_path / f"{split}.pt")
    with pytest.raises(RuntimeError, match="below 0.99; raise evaluation.classifier.epochs"):
        evaluation.build_evaluator(tmp_path, tmp_path / "out", epochs=1, batch_size=32, lr=1e-3, seed=0,
                                   min_accuracy=0.99)
    assert not (tmp_path / "out" / "classifier.pt").exists()


# --- 2D mixtures ---------------------------------------------------------------------------------

def test_mixture_log_density_integrates_to_one():
    data = datasets.load("ring8")
    axis = torch.linspace(-3, 3, 601, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    mass = data.log_density(grid).exp().sum().item() * (axis[1] - axis[0]).item() ** 2
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_mixture_scores_of_p_itself_and_of_a_collapsed_generator():
    data = datasets.load("ring8")
    key = torch.tensor([3])
    p_samples = data.sample(key, 0, 4000)[0]
    fresh = data.sample(key, 1, 4000)[0]
    real = evaluation.mixture_scores(fresh, data, p_samples, min_share=0.1)
    assert real["modes_covered"] == 8
    assert real["high_quality_share"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)  # chi2(2) mass within 3 sd
    # The KDE turns each mode N(m, s^2) into about N(m, 2 s^2) (kernel width h = s, modes far apart), so
    # KL(P || Q_kde) -> ln 2 - 1/2 and the estimate of KL(Q || P) -> 1/2 - ln 2 for Q = P.
    assert real["kl_p_q"] == pytest.approx(math.log(2) - 0.5, abs=0.05)
    assert real["kl_q_p"] == pytest.approx(0.5 - math.log(2), abs=0.05)
    collapsed = data.means[0] + 0.05 * torch.randn(4000, 2)
    bad = evaluation.mixture_scores(collapsed, data, p_samples, min_share=0.1)
    assert bad["modes_covered"] == 1 and bad["kl_p_q"] > 100
    # Q = P's first component, which P weighs 1/8: KL(Q || P) = ln 8, less the same smoothing term
    assert bad["kl_q_p"] == pytest.approx(math.log(8) + 0.5 - math.log(2), abs=0.05)


# --- the per-run job -----------------------------------------------------------------------------

def test_a_diverged_run_keeps_its_row_with_empty_scores(tmp_path):
    setup = spec.Setup(dataset="ring8", z_dim=4, n_layer_g=2, size_g=8, n_layer_d=2, size_d=8, batch_size=16,
                           steps=20, log_every=5)
    runs = [spec.Run("fine", seed=1, loss="logistic", f="softplus", lr=1e-3),
            spec.Run("boom", seed=2, loss="lsif", f="identity", lr=1e12, optim_d="sgd", optim_g="sgd")]
    dirs = [str(tmp_path / r.run_id) for r in runs]
    training_job.train_shard([{"setup": asdict(setup), "runs": [asdict(r) for r in runs], "run_dirs": dirs,
                       "checkpoint": str(tmp_path / "ck.pt")}], None, "cpu", record=str(tmp_path / "trained.json"))
    settings = score_settings(samples=500, seed=0, batch_size=100)
    evaluation.evaluate_runs(dirs, "ring8", settings, [], record=str(tmp_path / "scored.json"))
    fine, boom = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("fine", "boom"))
    assert fine["status"] == "ok" and 0 <= fine["modes_covered"] <= 8 and math.isfinite(fine["kl_p_q"])
    assert boom["status"] == "diverged" and all(math.isnan(boom[k]) for k in evaluation.nan_scores("ring8"))
    assert boom["works"] is False and boom["d_dead"] is None  # a diverged run never works; its D is not checked
    assert isinstance(fine["works"], bool) and isinstance(fine["d_dead"], bool) and fine["s_spread"] >= 0
    # the jobs' records: the training job's counts the diverged run, the scoring job's lists each run's status
    (trained,) = json.loads((tmp_path / "trained.json").read_text())["batches"]
    assert (trained["runs"], trained["diverged"], trained["steps_trained"], trained["run_dirs"]) == (2, 1, 20, dirs)
    scored = json.loads((tmp_path / "scored.json").read_text())
    assert scored["runs"] == {dirs[0]: "ok", dirs[1]: "diverged"} and scored["settings"] == settings

    from energygan.analysis import summary
    table = summary.runs_table({"toy": dirs})
    assert list(table["status"]) == ["ok", "diverged"] and list(table["run_id"]) == ["fine", "boom"]
    assert {"dataset", "loss", "f", "seed", "samples_png"} <= set(table.columns)

