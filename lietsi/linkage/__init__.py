"""Record linkage: the same martyr in the registry, on form 01 and on every row of form 02.

Method (Fellegi–Sunter, in the manner of Splink but on polars frames end to end):

1. **Records** (`records`). `martyr_records` brings the three sources to one shape; rows of one
   form that repeat the same martyr block are collapsed into one *unit* (`features.unit_frame`;
   form 02 has one row per relative).
2. **Features** (`features`). Names are parsed once per distinct value (`lietsi.names`), hometowns
   once per distinct text (`lietsi.places`), death dates keep their precision as an interval of days.
3. **Blocking** (`blocking`). Candidate pairs are the union of equi-joins on several keys, each with
   a place key so blocks stay small at national scale (name × birth year × 2025 commune, and ±1 year;
   name × death year × 2025 commune; given name × commune × birth year; mother × birth year;
   certificate; record id …, see `BLOCKING_RULES`). Each rule is a polars self-join; blocks larger
   than `max_block` are skipped and counted.
4. **Comparison levels** (`comparison`) per field, vectorised (rapidfuzz `cpdist` for Jaro-Winkler).
5. **Model** (`model`). u-probabilities from random pairs (almost all non-matches), m-probabilities
   and the match prior by EM on the blocked pairs. Agreement on a name is adjusted by the frequency
   of that name (term-frequency adjustment): `u(value) = u(level) · tf(value) / Σ tf²`, so agreeing
   on `Nguyễn Văn Hùng` adds less weight than agreeing on a rare name.
6. **Clustering** (`clustering`). Pairs above the threshold form connected components; the pairs
   inside a component that blocking missed are scored too. A component that would hold two
   certificate numbers, two clearly different mothers' names, two sexes, or a pair the model rejects
   is rebuilt greedily from its strongest edges, refusing any merge that breaks a safeguard.
7. **Golden records and stable ids** (`golden`, `ids`). One row per cluster with the best value of
   each field and the sources behind it; the id is a hash of the cluster's first (source in arrival
   order — registry, form 02, form 01 —, source_record_id, file, row_number), so it does not change
   when the same inputs are linked again, nor when a later drop adds forms to a martyr the registry
   named.

`martyrs.link_martyrs` runs steps 1–7. Relatives are resolved in `relatives.link_relatives`: keyed
citizen-id hash first, then name, birth year and address. `evaluation.truth_metrics` measures both
against the synthetic truth.
"""
