"""Plugins: modules of a researcher's own that register losses and nonlinearities in energygan's registries
(`energygan.engine.losses.REGISTRY.register("name")` on a class with `real`, `fake`, `optimum` and `domain`;
`energygan.engine.nonlinearities.REGISTRY.register(...)` on a callable class with `domain`), so that every
experiment's grid and the theory checks take them by name, as they take the built-in ones; no file of the
package is edited.

A plugin is named in the config (`plugins: [my_losses]`: a module on the Python path, or the path of a .py file
relative to the working directory) or installed as a package with an entry point in the group
`energygan.plugins`. Every process loads them: the Snakefile from the config when it builds the DAG, each job
from the environment variable it sets (ENERGYGAN_PLUGINS), every `energygan` command on start.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

from energygan.registry import RegistryError

ENV = "ENERGYGAN_PLUGINS"
GROUP = "energygan.plugins"


def load(names: list[str]) -> None:
    """Import each named plugin and every installed one; refused, naming the plugin and the fix, where one does
    not import (a registration it refuses names its module itself)."""
    for name in names:
        _import(name, lambda name=name: _module(name))
    for entry in entry_points(group=GROUP):
        _import(f"{entry.name} (entry point {entry.value})", entry.load)


def load_from_environment() -> None:
    load([name for name in os.environ.get(ENV, "").split(os.pathsep) if name])


def export(names: list[str]) -> None:
    """Make the jobs this process starts load the same plugins."""
    os.environ[ENV] = os.pathsep.join(names)


def _module(name: str):
    if not name.endswith(".py"):
        return importlib.import_module(name)
    path = Path(name).resolve()
    module_name = f"energygan_plugin_{path.stem}"
    if module_name in sys.modules:  # loaded already by this process
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _import(name: str, load_module) -> None:
    try:
        load_module()
    except RegistryError:
        raise
    except Exception as err:  # any failure of a user's module: named with the fix, never a bare traceback
        raise ValueError(f"plugin {name!r} does not import ({type(err).__name__}: {err}); put its module on the "
                         "Python path or install it, give the path of its .py file (plugins: [path/to/plugin.py]), "
                         "or remove it from the config's plugins") from err
