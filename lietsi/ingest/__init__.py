"""Ingest stage: reading inbox files into typed raw rows, with every rejected row accounted for.

A file is a batch. Reading a batch yields accepted rows (typed per `lietsi.schema`) and
quarantined rows (with a reason), or fails the whole batch with a message naming the problem
(binary junk, a missing required column). Nothing is dropped silently: for every batch
`records_read == rows_clean + rows_quarantined`.

Modules:
- `inbox`: inbox folders and files to batches (`read_folder`, `read_batch`); links are never
  followed, re-dropped files become duplicate batches.
- `decoding`: file bytes to records (text encoding, CSV delimiter, XLSX workbooks).
- `encodings`: legacy Vietnamese 8-bit encodings (TCVN3/ABC, VNI-Windows) to Unicode.
- `headers`: cell text, the header row and which contract field each header names.
- `row_typing`: typing a row per the contract (years, dates, numbers, enums, hashed identifiers).
- `records`: records of a file to clean rows or quarantined rows with a reason.
- `batches`: the batch, and the tables it ends in (raw rows, quarantine, batch log).
- `limits`: per-file bounds (bytes, rows, cells, sequence length).
"""
