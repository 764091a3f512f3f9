"""Keras Tuner search stage (see issue 4): the search space and the tracked tuner."""
