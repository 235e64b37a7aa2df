"""The verdicts every claims table uses: their names, and the one rule that turns an interval, and the
evidence it rests on, into a verdict.

A claim is `supported` when the whole interval of its effect lies on the claimed side of its tolerance,
`refuted` when the whole interval lies on the other side, and `not established at this scale` otherwise:
when the interval straddles the tolerance, is undefined, or rests on too few independent units or on too
few runs that clear the quality floor (a comparison of runs that did not train is no verdict).
"""

from __future__ import annotations

import math

SUPPORTED = "supported"
REFUTED = "refuted"
NOT_ESTABLISHED = "not established at this scale"
NAMES = (SUPPORTED, REFUTED, NOT_ESTABLISHED)


def decide(low: float, high: float, tolerance: float, above: bool, enough: bool = True) -> str:
    """The claim "the effect lies above `tolerance`" (`above`) or "below it", from its interval [low, high];
    never decided without `enough` evidence."""
    if not enough or not (math.isfinite(low) and math.isfinite(high)):
        return NOT_ESTABLISHED
    if low > tolerance:
        return SUPPORTED if above else REFUTED
    if high < tolerance:
        return REFUTED if above else SUPPORTED
    return NOT_ESTABLISHED

# a theory row that no measurement could contradict is stated, not judged
IDENTITY = "identity (holds by construction; not a test)"
