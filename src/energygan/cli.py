"""`energygan <command> [--in PATH ...] [--out PATH ...] [--params JSON]`: what the rules call.

Every command has the same shape: input paths, output paths, and one JSON object of settings (the
rule's slice of the validated config), so that each rule's shell line is one line and the settings
that made an output are visible in the job's command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from energygan import files, plugins

COMMANDS = {}


def command(name: str):
    def register(func):
        COMMANDS[name] = func
        return func
    return register


# --- data ------------------------------------------------------------------------------------

@command("fetch-mnist")
def fetch_mnist(inputs, outputs, sources):
    """The four official MNIST IDX files, verified, into the folder outputs[0]."""
    from energygan.data import mnist
    mnist.fetch(outputs[0], mnist.make_sources(sources))


@command("prepare-mnist")
def prepare_mnist(inputs, outputs):
    """Parse the raw IDX folder inputs[0] into train.pt and test.pt in outputs[0]."""
    from energygan.data import mnist
    mnist.prepare(inputs[0], outputs[0])


@command("fetch-lsun")
def fetch_lsun(inputs, outputs, category, url):
    """A category's LMDB zip (`url` with {category} filled in) into outputs[0]."""
    from energygan.data import lsun
    lsun.fetch(category, outputs[0], url)


@command("convert-lsun")
def convert_lsun(inputs, outputs, **settings):
    """64x64 uint8 shards from the zip inputs[0] into the folder outputs[0]."""
    from energygan.data import lsun
    lsun.convert(inputs[0], outputs[0], **settings)


# --- training --------------------------------------------------------------------------------

@command("train")
def train(inputs, outputs, batches, device, concurrent=1, live=None):
    """Train one shard: each batch's runs together, up to `concurrent` batches side by side; inputs[0]: the
    dataset's prepared folder, if it has one; outputs[0]: the job's record (trained.json), if asked for."""
    from energygan.study import training_job
    training_job.train_shard(batches, inputs[0] if inputs else None, device, concurrent,
                             outputs[0] if outputs else None, live)


# --- evaluation and summary --------------------------------------------------------------------

@command("build-evaluator")
def build_evaluator(inputs, outputs, **settings):
    """Train the MNIST classifier on inputs[0]'s training split; write it, the test feature statistics
    and metrics.json (test_accuracy) into the folder outputs[0]."""
    from energygan.analysis import evaluation
    evaluation.build_evaluator(inputs[0], outputs[0], **settings)


@command("reference-scores")
def reference_scores(inputs, outputs, dataset, settings):
    """The scores of real data as a CSV; inputs: the prepared data folder, then (classifier-scored datasets)
    the evaluator folder."""
    from energygan.analysis import evaluation
    table = evaluation.reference_scores(dataset, settings, *(list(inputs) + [None, None])[:2])
    files.write_csv(table, outputs[0])


@command("evaluate")
def evaluate(inputs, outputs, dataset, run_dirs, settings):
    """metrics.json for each run folder of a shard; inputs: the evaluator folder and the prepared data
    (classifier-scored datasets), the prepared images (fidelity-scored ones), or none; outputs[0]: the job's
    record (scored.json), if asked for."""
    from energygan.analysis import evaluation
    evaluation.evaluate_runs(run_dirs, dataset, settings, list(inputs), outputs[0] if outputs else None)


@command("summarize")
def summarize(inputs, outputs, run_dirs):
    """results/summary/runs.csv: one row per run of every experiment (run_dirs: experiment -> folders)."""
    from energygan.analysis import summary
    files.write_csv(summary.runs_table(run_dirs), outputs[0])


@command("experiment-tables")
def experiment_tables(inputs, outputs, experiment, confidence, quality_floor):
    """Aggregated CSV and HTML of one experiment from runs.csv (inputs[0]) and its reference rows (inputs[1])."""
    from energygan.analysis import summary
    summary.write_tables(inputs[0], inputs[1], experiment, confidence, quality_floor, outputs[0], outputs[1])


@command("plan")
def plan(inputs, outputs, configfile=(), calibration=None):
    """The cost of a config before any job: runs, shards, FLOPs, memory, and hours per calibrated device."""
    from energygan.study import plan as planner
    print(planner.describe(planner.load_config(list(configfile)), calibration or planner.CALIBRATION))


@command("headline-metrics")
def headline_metrics(inputs, outputs, verdict_tables, evaluator):
    """results/metrics.json, the DVC metrics, from runs.csv (inputs[0]), the verdict tables and the evaluator."""
    from energygan.analysis import headline
    headline.write(inputs[0], outputs[0], verdict_tables, evaluator)


@command("track")
def track(inputs, outputs):
    """dvc add and dvc push of the paths in inputs, keeping their modification times (for Snakemake)."""
    from energygan.study import sharing
    sharing.track(inputs)


@command("experiment-figures")
def experiment_figures(inputs, outputs, experiment, kinds, settings):
    """One experiment's figures, one per kind, from runs.csv (inputs[0])."""
    from energygan.analysis import summary
    summary.write_figures(inputs[0], experiment, kinds, outputs, settings)


@command("grid-search")
def grid_search(inputs, outputs, spec, grid_sizes):
    """EBGAN's grid search from runs.csv (inputs[0]) and the MNIST reference rows (inputs[1]): verdicts,
    tables and figures into the folder outputs[0]."""
    from energygan.analysis import grid_search as grid
    grid.write_outputs(inputs[0], inputs[1], spec, grid_sizes, outputs[0])


@command("probe")
def probe(inputs, outputs, experiment, run_dirs, settings, eval_seed):
    """Probe every run of an experiment at its snapshots and at the end: the table outputs[0] and, for a 2D
    experiment, the figure outputs[1]; the MNIST test split from the folder inputs[0] if given."""
    from energygan.analysis import probes
    probes.probe_experiment(experiment, run_dirs, settings, eval_seed, inputs[0] if inputs else None, outputs[0],
                            outputs[1] if len(outputs) > 1 else None)


@command("title-question")
def title_question(inputs, outputs, spec):
    """The title question's claims, tables and figure from the probe tables (inputs) into the folder outputs[0]."""
    from energygan.analysis import title_question as title
    title.write_outputs(inputs, spec, outputs[0])


@command("check-report")
def check_report(inputs, outputs):
    """Open the report inputs[0] in headless Chromium, save a screenshot to outputs[0], check it is not blank."""
    from energygan.report import check
    print(json.dumps(check.check(inputs[0], outputs[0])))


# --- theory ----------------------------------------------------------------------------------

@command("theory-penalties")
def theory_penalties(inputs, outputs, losses):
    """Figure of l1 and l2 for every loss."""
    from energygan.report import plots
    plots.penalty_curves(losses, outputs[0])


@command("theory-optimum")
def theory_optimum(inputs, outputs, losses):
    """Table: closed-form s* against a dense search, per loss."""
    from energygan.theory import inner
    files.write_csv(inner.optimum_check(losses), outputs[0])


@command("theory-inner")
def theory_inner(inputs, outputs, pair, losses, **fit):
    """Table and figure: s learned from samples against s*, per loss and sample size."""
    from energygan.report import plots
    from energygan.theory import inner
    result = inner.inner_loop(pair, losses, **fit)
    files.write_csv(result.table, outputs[0])
    plots.inner_loop(result, outputs[1])


@command("theory-outer")
def theory_outer(inputs, outputs, p, theta, losses, nonlinearities, mc_samples, seed, learned_hinge):
    """Table per (loss, f): E_Q f(s*) and its gradient against the claimed divergence; hinge figure."""
    from energygan.report import plots
    from energygan.theory import outer
    table, learned = outer.outer_loop(p, theta, losses, nonlinearities, mc_samples, seed, learned_hinge)
    files.write_csv(table, outputs[0])
    plots.hinge_learned(*outer.hinge_curves(p, theta, learned), learned_hinge["margin"], outputs[1])


@command("theory-renyi-bias")
def theory_renyi_bias(inputs, outputs, **settings):
    """Table: bias of the minibatch Renyi estimate per batch size."""
    from energygan.theory import outer
    files.write_csv(outer.renyi_bias(**settings), outputs[0])


@command("theory-formulas")
def theory_formulas(inputs, outputs, **settings):
    """Table: the blog's suspect formulas computed as written and as derived."""
    from energygan.theory import formulas
    files.write_csv(formulas.formula_checks(**settings), outputs[0])


@command("theory-claims")
def theory_claims(inputs, outputs, tolerances):
    """The claims table (CSV and HTML) from the theory tables named in inputs."""
    from energygan.report import tables
    from energygan.theory import claims
    table = claims.claims({Path(p).stem: files.read_csv(p) for p in inputs}, tolerances)
    tables.write(table, outputs[0], outputs[1], title="Claims of the blog post, checked")


@command("keep-study")
def keep_study(inputs, outputs, configfiles=(), note=""):
    """Keep a finished study's small outputs (from the results folder inputs[0]) and its provenance in the
    folder outputs[0] (studies/<name>), for version control and the report."""
    from energygan.study import kept
    record = kept.keep(inputs[0] if inputs else "results", outputs[0], list(configfiles), note)
    print(f"kept {outputs[0]}: {record['device']}, commit {record['commit']}", file=sys.stderr)


@command("render-study")
def render_study(inputs, outputs):
    """The report's view of the kept study inputs[0] (tables as HTML, figures) into the folder outputs[0]."""
    from energygan.study import kept
    kept.render(inputs[0], outputs[0])


@command("render-table")
def render_table(inputs, outputs):
    """An HTML rendering of the CSV table inputs[0], for the report."""
    from energygan.report import tables
    tables.write_html(files.read_csv(inputs[0]), outputs[0], title=Path(inputs[0]).stem.replace("_", " "))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="energygan", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in COMMANDS.items():
        p = sub.add_parser(name, help=(func.__doc__ or "").strip())
        p.add_argument("--in", dest="inputs", nargs="*", default=[])
        p.add_argument("--out", dest="outputs", nargs="*", default=[])
        p.add_argument("--params", type=json.loads, default={})
        if name == "plan":  # a user's command rather than a rule's: the config files as Snakemake takes them
            p.add_argument("--configfile", nargs="*", default=[])
            p.add_argument("--calibration", help="the calibration table (default: energygan.study.plan.CALIBRATION)")
    args = parser.parse_args(argv)
    extra = {"configfile": args.configfile, "calibration": args.calibration} if args.command == "plan" else {}
    try:
        plugins.load_from_environment()  # the config's plugins, which the Snakefile exports to its jobs
        COMMANDS[args.command](args.inputs, args.outputs, **args.params, **extra)
    except (ValueError, RuntimeError, OSError) as err:
        sys.exit(f"energygan {args.command}: error: {err}")


if __name__ == "__main__":
    main()
