"""Name -> factory registries for the framework's losses and nonlinearities, the built-in ones and those that a
plugin module registers (energygan.plugins).

A spec is a name (`"softplus"`) or a mapping with parameters (`{"name": "power", "alpha": 3}`);
`label(spec)` turns it into the stable string used in file names and tables (`power_alpha3`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


class RegistryError(ValueError):
    """A registration refused: the message names the module that registers and the fix."""


class Registry:
    def __init__(self, kind: str, required: tuple = (), why: str = ""):
        """`required`: the attributes every factory must have (`why` says what for, in the refusal)."""
        self.kind, self.required, self.why = kind, required, why
        self._factories: dict[str, Callable] = {}

    def register(self, name: str):
        """A decorator: the factory under `name`. Refused, naming the module that registers it and the fix, where
        the name is taken by another module or the factory lacks a required attribute."""
        def add(factory):
            module = factory.__module__
            if name in self._factories and self.origin(name) != module:
                raise RegistryError(f"{module} registers {self.kind} {name!r}, a name that {self.origin(name)} has "
                                 f"registered already: give it another name")
            if missing := [a for a in self.required if not _defines(factory, a)]:
                raise RegistryError(f"{module} registers {self.kind} {name!r} without {missing}: {self.why}; add "
                                 f"{' and '.join(missing)} to it")
            self._factories[name] = factory
            return factory
        return add

    def names(self) -> list[str]:
        return sorted(self._factories)

    def origin(self, name: str) -> str:
        """The module that registered `name` (energygan's own, or a plugin's)."""
        return self._factories[name].__module__

    def built_in(self, name: str) -> bool:
        return self.origin(name).startswith("energygan.")

    def make(self, spec: str | dict, **params: Any):
        name, spec_params = parse(spec)
        if name not in self._factories:
            raise ValueError(f"unknown {self.kind} {name!r}; known {self.kind} names: {self.names()}")
        factory = self._factories[name]
        params = {**spec_params, **params}
        allowed = set(inspect.signature(factory).parameters)
        if unknown := set(params) - allowed:
            where = "" if self.built_in(name) else f" (plugin {self.origin(name)})"
            raise ValueError(f"{self.kind} {name!r}{where} takes parameters {sorted(allowed)}, not {sorted(unknown)}")
        return factory(**params)


def _defines(factory, attribute: str) -> bool:
    """Whether the class `factory` (or a base of its own) defines `attribute`; a class's `__call__` is not
    its metaclass's."""
    found = inspect.getattr_static(factory, attribute, None)
    return found is not None and found is not type.__call__


def parse(spec: str | dict) -> tuple[str, dict]:
    if isinstance(spec, str):
        return spec, {}
    spec = dict(spec)
    return spec.pop("name"), spec


def label(spec: str | dict) -> str:
    name, params = parse(spec)
    return "_".join([name, *(f"{k}{v:g}" for k, v in sorted(params.items()))])
