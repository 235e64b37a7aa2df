"""The config's checks beyond its schema (workflow/schemas/config.schema.yaml): names that must refer to
something the config or a registry declares. The Snakefile runs them before any job; each error names
the key, what is wrong and what is known.
"""

from __future__ import annotations

from energygan.data import datasets
from energygan.engine import architectures, losses, nonlinearities, parametrisations
from energygan.study.experiments import RUN_FIELDS, SETUP_FIELDS, spec_problem

# what the probe tables hold of a run's settings, and so what title_question.groups may select runs by
PROBED_SETTINGS = ["experiment", "dataset", "discriminator", "loss", "f", "pt_weight", "entropy_weight"]
TITLE_SELECTABLE = PROBED_SETTINGS + ["loss_name"]


def grid_search_experiments(config: dict) -> list[str]:
    """The experiments the grid search reads: its families', the margin sweep's and the ablation's."""
    spec = config.get("grid_search")
    if not spec:
        return []
    return [f["experiment"] for f in spec["families"].values()] + \
        ([spec["margin_sweep"]] if "margin_sweep" in spec else []) + \
        ([spec["ablation"]["experiment"]] if "ablation" in spec else [])


def probed_experiments(config: dict) -> list[str]:
    spec = config.get("title_question")
    return spec["experiments"] if spec else []


def _unknown(selected, known) -> list:
    return sorted(set(selected) - set(known))


def check_specs(key: str, specs: list, registry) -> None:
    """Each loss or f spec of the config (`key`) made once: an unknown name or parameter is refused by name."""
    for spec in specs:
        if problem := spec_problem(registry, spec):
            raise ValueError(f"config: {key}: {problem}")


def check(config: dict) -> None:
    """Raise ValueError on the first name the config uses that nothing declares."""
    check_specs("theory.losses", config["theory"]["losses"], losses)
    check_specs("theory.nonlinearities", config["theory"]["nonlinearities"], nonlinearities)
    declared = sorted(config["experiments"])
    if unknown := _unknown(config["lsun"]["categories"], datasets.LSUN_CATEGORIES):
        raise ValueError(f"config: lsun.categories: unknown category {unknown}; known: {datasets.LSUN_CATEGORIES}")
    if missing := _unknown(grid_search_experiments(config), declared):
        raise ValueError(f"config: grid_search names experiments {missing} that `experiments` does not declare; "
                         f"declared: {declared}")
    if spec := config.get("grid_search"):
        selectors = {"grid_search.fair": spec["fair"],
                     "grid_search.ablation.factors": spec.get("ablation", {}).get("factors", {}),
                     **{f"grid_search.families.{name}.where": f.get("where", {})
                        for name, f in spec["families"].items()}}
        for key, selector in selectors.items():
            if unknown := _unknown(selector, RUN_FIELDS | SETUP_FIELDS):
                raise ValueError(f"config: {key} selects runs by {unknown}, which are not run or setup settings; "
                                 f"known: {sorted(RUN_FIELDS | SETUP_FIELDS)}")
    if spec := config.get("title_question"):
        if missing := _unknown(probed_experiments(config), declared):
            raise ValueError(f"config: title_question.experiments names {missing}, which `experiments` does not "
                             f"declare; declared: {declared}")
        for key, selector in spec["groups"].items():
            if unknown := _unknown(selector, TITLE_SELECTABLE):
                raise ValueError(f"config: title_question.groups.{key} selects runs by {unknown}; "
                                 f"known: {sorted(TITLE_SELECTABLE)}")
        if unknown := _unknown(spec.get("fixed_q", {}).get("experiments", []), probed_experiments(config)):
            raise ValueError(f"config: title_question.fixed_q.experiments names {unknown}, which "
                             f"title_question.experiments does not probe; probed: {probed_experiments(config)}")
        for kind, settings in spec.get("fixed_q", {}).get("discriminators", {}).items():
            check_specs(f"title_question.fixed_q.discriminators.{kind}.loss", [settings["loss"]], losses)
            for key, known in (("discriminator", architectures.DISCRIMINATORS), ("energy", parametrisations.ENERGIES),
                               ("nonnegative_s", parametrisations.NONNEGATIVE)):
                if key in settings and settings[key] not in known:
                    raise ValueError(f"config: title_question.fixed_q.discriminators.{kind}.{key}: unknown "
                                     f"{settings[key]!r}; known: {sorted(known)}")
