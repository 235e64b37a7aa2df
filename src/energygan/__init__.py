"""energygan: are energy-based GANs any more energy-based than normal GANs?"""

__version__ = "0.2.0"
