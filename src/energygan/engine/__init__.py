"""The engine: K runs of one architecture trained as one batched computation."""
