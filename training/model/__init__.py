"""The network as data (spec, families) and building it in Keras."""
