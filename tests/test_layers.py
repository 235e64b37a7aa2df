"""The package's import structure, read from the source (imports inside functions included): no import
circle between modules, each subpackage imports only from the layers below it, and what the Snakefile
needs to expand the config does not import torch."""
import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "src" / "energygan"
# bottom to top: a module may import from its own layer's package and from the layers below
LAYERS = [{"files", "registry", "rng", "plugins"}, {"data"}, {"engine"}, {"report"}, {"study"}, {"analysis"},
          {"theory"}, {"cli", "__main__"}]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str) -> set[str]:
    """The energygan modules `path` imports anywhere in it; `from package import module` names the module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "energygan"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if base.split(".")[0] != "energygan":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return found - {name}


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: imports(path, name) for name, path in MODULES.items()}


def cycles(graph: dict) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_circle_through_a_function_level_import(tmp_path):
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from energygan.report import plots\n")
    assert imports(module, "energygan.x") == {"energygan.report.plots"}


def test_no_import_circle():
    assert cycles(GRAPH) == []


def layer(name: str) -> int:
    top = name.split(".")[1] if "." in name else ""
    return next(i for i, members in enumerate(LAYERS) if top in members) if top else -1


def test_every_package_imports_only_from_below():
    upward = [f"{a} imports {b}" for a, deps in GRAPH.items() for b in deps
              if layer(a) >= 0 and layer(b) > layer(a)]
    assert upward == []


def test_every_module_belongs_to_a_layer():
    assert [name for name in MODULES if name != "energygan" and layer(name) < 0] == []


def test_expanding_the_config_does_not_import_torch():
    """What the Snakefile and its rule files import, and the expansion of the default config and of the paper
    config merged over it (as Snakemake merges them): a DAG is built without torch."""
    code = ("import sys, yaml\n"
            "from snakemake.utils import update_config\n"
            "from energygan.analysis import scorers\n"
            "from energygan.data import datasets, mnist\n"
            "from energygan import plugins\n"
            "from energygan.study import checks, experiments, kept, paths, plan, runfolder\n"
            "default = yaml.safe_load(open('config/config.yaml'))\n"
            "paper = yaml.safe_load(open('config/config.yaml'))\n"
            "update_config(paper, yaml.safe_load(open('config/paper.yaml')))\n"
            "for config in (default, paper):\n"
            "    checks.check(config)\n"
            "    experiments.shards(config)\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
