"""Everything that is not orchestration, in sub-packages by job (docs/layout.md):
data, model, method, serving, report, runtime, and tracking (the only MLflow boundary).

Importing it sets nothing: the entry points apply the process defaults (training.runtime.environment).
"""
