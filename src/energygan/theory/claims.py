"""The theory claims table: what the blog, the framework and the EBGAN paper claim of each (loss, f) pair,
the evidence of the theory tables, and a verdict computed from their numbers and the config's tolerances."""

from __future__ import annotations

import numpy as np
import pandas as pd

from energygan.analysis import verdicts


class Evidence:
    """The theory tables a claim reads, the tolerances it is judged by, and the rows decided so far."""

    def __init__(self, tables: dict[str, pd.DataFrame], tol: dict):
        self.tol, self.rows = tol, []
        self.optimum = tables["optimum_check"].set_index("loss")
        inner = pd.concat([t for k, t in tables.items() if k.startswith("inner_loop")])
        self.inner = inner[inner.n == inner.n.max()]
        self.outer = tables["outer_loop"]
        self.bias = tables["renyi_bias"].sort_values("batch_size")
        self.formulas = tables["formula_checks"]
        self.hinge = next((name for name in self.optimum.index if name.startswith("hinge")), None)

    def add(self, claim, source, evidence, measured, holds):
        """`holds` None: an identity that no measurement could contradict, stated rather than judged."""
        verdict = verdicts.IDENTITY if holds is None else verdicts.SUPPORTED if holds else verdicts.REFUTED
        self.rows.append({"id": len(self.rows) + 1, "claim": claim, "source": source, "evidence": evidence,
                          "measured": measured, "verdict": verdict})

    def outer_row(self, loss, f, s="optimal"):
        outer = self.outer
        return outer[(outer.loss == loss) & (outer.f == f) & (outer.s == s)].iloc[0]

    def has(self, loss, *fs) -> bool:
        """Whether the config's theory losses and nonlinearities gave `loss` (with each of `fs`) rows: a claim
        about a pair the study did not measure is left out, not guessed (a plugin's study may check only its own
        loss beside the logistic one)."""
        outer = self.outer[self.outer.loss == loss]
        return loss in self.optimum.index and all(f in set(outer.f) for f in fs)

    def learned(self, loss) -> tuple[pd.DataFrame, str]:
        """The inner loop's rows of s learned from samples for `loss`, and their relative errors per dimension."""
        learned = self.inner[self.inner.loss == loss]
        return learned, ", ".join(f"{r.dim}D {r.relative_error:.3f}" for r in learned.itertuples())

    def optimum_holds(self, loss) -> bool:
        """Whether `loss`'s claimed s* matches the dense search and the learned s, each within its tolerance."""
        learned = self.inner[self.inner.loss == loss]
        return bool(self.optimum.loc[loss, "max_abs_error"] < self.tol["optimum_abs"]
                    and (learned.relative_error < self.tol["inner_relative_error"]).all())

    def identity_holds(self, row):
        tol = self.tol
        return (row.value_abs_error < tol["value_abs"] and row.grad_abs_error < tol["gradient_abs"]
                and row.mc_value_z < tol["mc_z"])

    @staticmethod
    def identity_text(row):
        return (f"E_Q f(s*) = {row.value_quadrature:.6f} (quadrature), {row.value_mc:.6f} ± {row.value_mc_se:.1e} "
                f"(MC), claimed {row.value_predicted:.6f}; gradient = {row.factor_fitted:.4f} x grad "
                f"{row.divergence} (claimed {row.factor_claimed:g}), cosine {row.grad_cosine:.6f}")


def optimum_claims(t: Evidence) -> None:
    """The optimal discrepancy of each loss, closed form against search and samples."""
    for loss, formula, source in [("logistic", "log q/p (a difference of energies)", "blog"),
                                  ("lsif", "q/p", "blog"), ("least_squares", "q/(p+q)", "framework")]:
        if not t.has(loss):
            continue
        learned, errors = t.learned(loss)
        t.add(f"{loss}: the optimal discrepancy is s* = {formula}", source,
            "optimum_check.csv, inner_loop_1d.csv, inner_loop_2d.csv",
            f"dense search: max |s* - argmin| = {t.optimum.loc[loss, 'max_abs_error']:.1e}; s learned from "
            f"{learned.n.max()} samples, (p+q)-weighted relative error: {errors}", t.optimum_holds(loss))

    if t.hinge is None:
        return
    learned = t.inner[t.inner.loss == t.hinge]
    agreement = ", ".join(f"{r.dim}D {r.region_agreement:.3f}" for r in learned.itertuples())
    t.add("EBGAN hinge: the optimal discrepancy is unknown (s* = shrug)", "blog",
        "optimum_check.csv, inner_loop_1d.csv, inner_loop_2d.csv",
        f"s* = m 1[q > p] matches a dense search to {t.optimum.loc[t.hinge, 'max_abs_error']:.1e}; a learned s "
        f"puts (p+q)-mass {agreement} on the same side of m/2 as s*",
        not (t.optimum.loc[t.hinge, "max_abs_error"] < t.tol["optimum_abs"]
             and (learned.region_agreement > t.tol["hinge_region_agreement"]).all()))


def logistic_claims(t: Evidence) -> None:
    """What the logistic loss with each f minimises."""
    if not t.has("logistic", "identity", "softplus", "softminus"):
        return
    row = t.outer_row("logistic", "identity")
    t.add("logistic + identity: the generator minimises KL(Q||P), value and gradient", "blog", "outer_loop.csv",
        t.identity_text(row), t.identity_holds(row))

    js_grad = t.outer_row("logistic", "softminus")[["target_grad_mu", "target_grad_sigma"]].to_numpy(float)
    softplus = t.outer_row("logistic", "softplus")
    softplus_grad = softplus[["grad_mu", "grad_sigma"]].to_numpy(float)
    cosine = float(softplus_grad @ js_grad / np.linalg.norm(softplus_grad) / np.linalg.norm(js_grad))
    t.add("logistic + f = softplus recovers the GAN that minimises Jensen-Shannon", "blog", "outer_loop.csv",
        f"cosine between the softplus gradient and grad JS = {cosine:.4f} (1 if it followed JS)",
        cosine > t.tol["gradient_cosine"])
    row = t.outer_row("logistic", "softminus")
    t.add("logistic + f = softminus: gradient 2 grad JS(P,Q) (the blog's softplus claim, names swapped)",
        "framework", "outer_loop.csv", t.identity_text(row), t.identity_holds(row))
    t.add("logistic + f = softplus: value KL(Q||P) - KL(Q||M) + log 2, gradient grad KL(Q||P) - 2 grad JS",
        "framework", "outer_loop.csv", t.identity_text(softplus), t.identity_holds(softplus))


def formula_claims(t: Evidence) -> None:
    """The blog's formulas: the non-saturating f, the logistic criterion, the LSIF and Renyi identities."""
    slope = t.formulas[t.formulas.check.str.startswith("slope")].iloc[0]
    t.add("f = softminus is the non-saturating generator loss of the original paper and DCGAN", "blog",
        "formula_checks.csv", f"slope f'(5) where D calls a sample fake: softminus {slope.as_written:.4f}, "
        f"softplus {slope.as_derived:.4f} (non-saturating: near 1)",
        slope.as_written > t.tol["non_saturating_slope"])

    sign = t.formulas[t.formulas.check.str.startswith("argmax")].iloc[0]
    t.add("L(s) = E_P softminus(s) - E_Q softplus(s) is the logistic training criterion for s* = log q/p", "blog",
        "formula_checks.csv", f"its maximiser at p=0.3, q=1.1 is s = {sign.as_written:.4f}; log q/p = "
        f"{sign.as_derived:.4f}, log p/q = {sign.alternative:.4f}",
        abs(sign.as_written - sign.as_derived) < t.tol["optimum_abs"])

    typo = t.formulas[t.formulas.check.str.startswith("E_Q[q/p]")].iloc[0]
    t.add("lsif + identity: E_Q s* = integral Q^2 P", "blog", "formula_checks.csv",
        f"integral q^2 p = {typo.as_written:.6f}; E_Q q/p = integral q^2/p = {typo.as_derived:.6f}; "
        f"1 + chi2(Q||P) = {typo.reference:.6f}", abs(typo.as_written - typo.as_derived) < t.tol["value_abs"])
    if t.has("lsif", "identity"):
        row = t.outer_row("lsif", "identity")
        t.add("lsif + identity: E_Q s* = integral q^2/p = 1 + chi2(Q||P); with s fixed the gradient is "
              "(1/2) grad chi2", "framework", "outer_loop.csv", t.identity_text(row), t.identity_holds(row))

    power = t.formulas[t.formulas.check.str.startswith("E_Q r^(alpha-2)")].iloc[0]
    t.add("f(x) = x^(alpha-2) on s* = q/p recovers the Renyi divergence of order alpha", "blog",
        "formula_checks.csv", f"E_Q r^(alpha-2) = {power.as_written:.6f}; exp((alpha-1) D_alpha) = "
        f"{power.reference:.6f}; {power.alternative_name} = {power.alternative:.6f}",
        abs(power.as_written - power.reference) < t.tol["value_abs"])
    for row in t.outer[(t.outer.loss == "lsif") & t.outer.f.str.startswith("power")].itertuples():
        t.add(f"lsif + {row.f}: E_Q s*^(alpha-1) = exp((alpha-1) {row.divergence}); gradient (1/alpha) x its "
            "gradient", "framework", "outer_loop.csv", t.identity_text(row), t.identity_holds(row))


def hinge_and_bias_claims(t: Evidence) -> None:
    """The minibatch Renyi bias, and EBGAN's hinge: its inner minimum, its gradient, Theorem 2."""
    smallest = t.bias.iloc[0]
    t.add("the minibatch Monte Carlo estimate of the Renyi divergence is biased", "blog", "renyi_bias.csv",
        "bias by batch size: " + ", ".join(f"B={r.batch_size}: {r.bias:+.4f} ± {r.bias_se:.4f}"
                                           for r in t.bias.itertuples())
        + f"; the moment mean r^(alpha-1) itself: {smallest.moment_bias:+.4f} ± {smallest.moment_bias_se:.4f} at "
        f"B={smallest.batch_size:.0f}", abs(smallest.bias) > t.tol["bias_z"] * smallest.bias_se)

    if t.hinge is None or not t.has(t.hinge, "identity"):
        return
    minimum = t.formulas[t.formulas.check.str.startswith("hinge inner minimum")].iloc[0]
    t.add("hinge: the inner minimum is m (1 - TV(P, Q))", "framework", "formula_checks.csv",
        f"L(s*) = {minimum.as_written:.6f}; m (1 - TV) = {minimum.reference:.6f}",
        abs(minimum.as_written - minimum.reference) < t.tol["value_abs"] * minimum.reference)
    optimal, learned_row = t.outer_row(t.hinge, "identity"), t.outer_row(t.hinge, "identity", "learned")
    optimal_norm = float(np.hypot(optimal.grad_mu, optimal.grad_sigma))
    learned_norm = float(np.hypot(learned_row.grad_mu, learned_row.grad_sigma))
    t.add("hinge + identity: with s fixed at s* = m 1[q > p] (piecewise constant) the generator's gradient "
        "vanishes almost everywhere", "framework", "outer_loop.csv",
        f"|gradient| at s* = {optimal_norm:.1e}, as it must be: s*'s derivative is 0 wherever it exists", None)
    t.add("hinge + identity: through a smooth s learned from samples the generator's gradient does not vanish",
        "framework", "outer_loop.csv, hinge_learned.png",
        f"|gradient| = {learned_norm:.3f}, = {learned_row.factor_fitted:.3f} x grad TV (cosine "
        f"{learned_row.grad_cosine:.4f})", learned_norm > t.tol["gradient_abs"])
    flat = t.formulas[t.formulas.check.str.startswith("hinge objective at p = q")].iloc[0]
    t.add("EBGAN Theorem 2: where p = q every constant energy in [0, m] is optimal (a flat energy surface)",
        "EBGAN paper", "formula_checks.csv", f"p s + p (m - s) = p m for every s in [0, m]: max - min of the "
        f"objective over s in [0, m] = {flat.as_written:.1e} (the trained discriminators are asked in the title "
        "question)", None)


def least_squares_claims(t: Evidence) -> None:
    """What least squares with f identity minimises."""
    if not t.has("least_squares", "identity"):
        return
    row = t.outer_row("least_squares", "identity")
    t.add("least squares + identity: the generator follows the triangular discrimination "
        "(E_Q s* = 1/2 + Delta/4)", "derived here", "outer_loop.csv", t.identity_text(row), t.identity_holds(row))


def plugin_claims(t: Evidence) -> None:
    """A plugin's loss judged as the built-in ones are: its claimed optimum against the dense search and against
    an s learned from samples, and the identity that holds only at the true optimum (the envelope theorem). A
    wrong claim is refuted with its measured gap; it does not stop the table."""
    plugins = t.optimum[~t.optimum["module"].astype(str).str.startswith("energygan.")] if "module" in t.optimum \
        else t.optimum.iloc[:0]
    for loss, found in plugins.iterrows():
        learned, errors = t.learned(loss)
        t.add(f"{loss} (plugin {found['module']}): its claimed s*(p, q) is the inner loop's optimum", "plugin",
              "optimum_check.csv, inner_loop_1d.csv, inner_loop_2d.csv",
              f"dense search: max |s* - argmin| = {found['max_abs_error']:.3g} (grid step {found['grid_step']:.1e}); "
              f"s learned from {learned.n.max()} samples, (p+q)-weighted relative error: {errors}",
              t.optimum_holds(loss))
        envelope = t.outer[(t.outer.loss == loss) & (t.outer.s == "envelope")]
        for row in envelope.itertuples():
            t.add(f"{loss} (plugin {found['module']}): with s held at s*, the minimax generator f = -l2 follows the "
                  "gradient of -min_s L(s) (the envelope theorem: true only where s* is the optimum)", "plugin",
                  "outer_loop.csv", f"|gradient - gradient of -min L| = {row.grad_abs_error:.2e} (of "
                  f"|{np.hypot(row.target_grad_mu, row.target_grad_sigma):.3g}|), cosine {row.grad_cosine:.6f}, "
                  f"factor {row.factor_fitted:.5f} (1 where it holds)",
                  # within gradient_abs, relative where the gradient is larger than 1
                  bool(row.grad_abs_error < t.tol["gradient_abs"] * max(1.0, np.hypot(row.target_grad_mu,
                                                                                     row.target_grad_sigma))))


PARTS = (optimum_claims, logistic_claims, formula_claims, hinge_and_bias_claims, least_squares_claims, plugin_claims)


def claims(tables: dict[str, pd.DataFrame], tol: dict) -> pd.DataFrame:
    """One row per claim: what is claimed, by whom, the evidence, the measured numbers, a verdict.

    `tables` maps a theory table's file stem to its contents; each verdict is computed from those
    numbers and the tolerances `tol` (config `theory.tolerances`), never typed in.
    """
    evidence = Evidence(tables, tol)
    for part in PARTS:
        part(evidence)
    return pd.DataFrame(evidence.rows)
