"""The process a run lives in: its environment, devices, stops, ownership, progress and versions."""
