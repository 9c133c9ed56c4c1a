"""Synthetic province generator: inbox files as offices export them, and the ground truth.

`generate(out_dir, province, martyrs, seed)` writes `out_dir/inbox/<folder>/` for every folder of
the input contract and `out_dir/truth/` for evaluation; see docs/synth.md.
"""

from lietsi.synth.generate import generate, main

__all__ = ["generate", "main"]
