"""Matching: remains ↔ missing martyrs by mtDNA and the other evidence, then what to do next.

`stage` is what the assets call (inputs from the warehouse's tables, summaries); `identification`
runs the whole province: `references` (consenting references, maternal lines), `candidate_search`
and `dna` (DNA pairs, the frequency database, the DNA factor), `evidence` (factors and their
numerators), `register` and `pool` (the shares each factor's denominator is measured on, with the
factors that use them), `geography` (Cambodia, fronts, local units), `scoring` (every factor of a
pair), `mixture` (prior, posterior, EM), `assignment` (one martyr per remains, statuses) and
`settings`. `council` reads the identification council's decisions, `evaluation` scores a run
against the synthetic truth, `next_actions` ranks what to sample or sequence next.
"""
