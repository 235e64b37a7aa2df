"""Analysis: scoring runs, probing discriminators, and the verdicts drawn from them."""
