"""Accuracy and speed runs; `python -m benchmarks` runs every module's `main()`."""
