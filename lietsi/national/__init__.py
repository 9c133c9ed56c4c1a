"""National matching (issue 18): every province's families against every cemetery's remains.

`exports` reads and validates the national inbox (one province export per folder; what is refused
goes to the quarantine with its reason); `country` is the entry point (`read_exports`,
`match_country`): an adapter from the export frames to the province matching library's, and the
stages of the run; `formats` names the files provinces and the national run exchange. The files
themselves are written by `lietsi.ops` (`national_export` in the province, `national_returns`:
each province's share of the results, the `quoc_gia/` folder a province run reads back as an
optional inbox folder). docs/national.md describes the run.
"""
