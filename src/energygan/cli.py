"""`energygan <command>`: the named entry points that the Snakemake rules call.

Each command is a thin wrapper: paths come as options, experiment settings as one JSON object
(`--params`, the rule's slice of the validated config), so that a rule's shell line stays one line.
"""

from __future__ import annotations

import argparse
import json
import sys

COMMANDS = {}


def command(name: str, *options: tuple):
    """Register `func` as `energygan <name>`; each option is (flag, kwargs for add_argument)."""
    def register(func):
        COMMANDS[name] = (func, options)
        return func
    return register


@command("fetch-mnist", ("--out", {"required": True}), ("--sources", {"nargs": "+", "required": True}))
def _fetch_mnist(args):
    from .data import mnist
    mnist.fetch(args.out, mnist.make_sources(args.sources))


@command("prepare-mnist", ("--raw", {"required": True}), ("--out", {"required": True}))
def _prepare_mnist(args):
    from .data import mnist
    mnist.prepare(args.raw, args.out)


@command("fetch-lsun", ("--category", {"required": True}), ("--out", {"required": True}))
def _fetch_lsun(args):
    from .data import lsun
    lsun.fetch(args.category, args.out)


@command("convert-lsun", ("--source", {"required": True}), ("--out", {"required": True}),
         ("--params", {"type": json.loads, "required": True}))
def _convert_lsun(args):
    from .data import lsun
    lsun.convert(args.source, args.out, **args.params)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="energygan", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (func, options) in COMMANDS.items():
        p = sub.add_parser(name, help=func.__doc__)
        for flag, kwargs in options:
            p.add_argument(flag, **kwargs)
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, RuntimeError, OSError) as err:
        sys.exit(f"energygan {args.command}: error: {err}")


if __name__ == "__main__":
    main()
