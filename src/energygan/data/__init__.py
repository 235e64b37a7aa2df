"""Data stage: verified downloads of MNIST and LSUN, parsed into tensors."""
