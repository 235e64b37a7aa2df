"""The theory: known distributions, divergences, the closed-form checks and their claims."""
