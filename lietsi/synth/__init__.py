"""Synthetic province generator: inbox files as offices export them, and the ground truth.

`generate(out_dir, province, martyrs, seed)` writes `out_dir/inbox/<folder>/` for every folder of
the input contract and `out_dir/truth/` for evaluation; `generate_country` writes several provinces
whose cemeteries hold each other's martyrs (`lietsi.synth.country`); see docs/synth.md.
"""

from lietsi.synth.country import generate_country
from lietsi.synth.country import main as national_main
from lietsi.synth.generate import generate, main

__all__ = ["generate", "generate_country", "main", "national_main"]
