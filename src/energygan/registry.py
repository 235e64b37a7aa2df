"""Name -> factory registries for the framework's losses and nonlinearities.

A spec is a name (`"softplus"`) or a mapping with parameters (`{"name": "power", "alpha": 3}`);
`label(spec)` turns it into the stable string used in file names and tables (`power_alpha3`).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable] = {}

    def register(self, name: str):
        def add(factory):
            self._factories[name] = factory
            return factory
        return add

    def names(self) -> list[str]:
        return sorted(self._factories)

    def make(self, spec: str | dict, **params: Any):
        name, spec_params = parse(spec)
        if name not in self._factories:
            raise ValueError(f"unknown {self.kind} {name!r}; known {self.kind} names: {self.names()}")
        factory = self._factories[name]
        params = {**spec_params, **params}
        allowed = set(inspect.signature(factory).parameters)
        if unknown := set(params) - allowed:
            raise ValueError(f"{self.kind} {name!r} takes parameters {sorted(allowed)}, not {sorted(unknown)}")
        return factory(**params)


def parse(spec: str | dict) -> tuple[str, dict]:
    if isinstance(spec, str):
        return spec, {}
    spec = dict(spec)
    return spec.pop("name"), spec


def label(spec: str | dict) -> str:
    name, params = parse(spec)
    return "_".join([name, *(f"{k}{v:g}" for k, v in sorted(params.items()))])
