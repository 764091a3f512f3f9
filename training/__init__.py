"""Everything that is not orchestration: config, data, specs, models, fit, diagnosis, tracking."""

from training.runtime import apply_environment_defaults

# Must run before any submodule imports TensorFlow, so that its import is quiet.
apply_environment_defaults()
