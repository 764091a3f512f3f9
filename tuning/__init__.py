"""The Keras Tuner search stage: the search space (space.py) and the tracked tuners (tuner.py)."""
