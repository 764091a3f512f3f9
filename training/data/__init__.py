"""Reading data where it lives, checking it, and splitting it for training."""
