"""Records of a file to clean rows or quarantined rows with a reason, each counted once."""

from __future__ import annotations

import io

from lietsi.ingest.batches import Batch, BatchError
from lietsi.ingest.decoding import decode
from lietsi.ingest.encodings import Legacy, detect_legacy, from_legacy, unconvertible
from lietsi.ingest.headers import clean_text, find_header, is_blank, match_headers
from lietsi.ingest.limits import FileLimits
from lietsi.ingest.row_typing import RowTyper
from lietsi.schema import Field, Source


def read_records(records: list[list], source: Source, typer: RowTyper, batch: Batch) -> None:
    if not records or all(is_blank(r) for r in records):
        return
    legacy = detect_legacy([str(c) for rec in records for c in rec if isinstance(c, str)])
    if legacy:
        batch.encoding = f"{batch.encoding}/{legacy}"
        records = [[from_legacy(c, legacy) if isinstance(c, str) else c for c in rec] for rec in records]
    try:
        header_at = find_header(records, source)
    except BatchError:
        _quarantine_unread(batch, [r for r in records if not is_blank(r)], typer)
        raise
    headers = [str(clean_text(h) or "") for h in records[header_at]]
    data_rows = [r for r in records[header_at + 1 :] if not is_blank(r)]
    try:
        mapping, extras = match_headers(headers, source)
    except BatchError:
        _quarantine_unread(batch, data_rows, typer)
        raise
    batch.extra_columns = extras
    batch.records_read = len(data_rows)
    extra_positions = {i: h for i, h in enumerate(headers) if i not in mapping and h}
    seen: dict[tuple, int] = {}
    for number, rec in enumerate(data_rows, start=1):
        is_last = number == len(data_rows)
        _read_record(rec, number, is_last, headers, mapping, extra_positions, legacy, typer, batch, seen)


def _quarantine_unread(batch: Batch, records: list[list], typer: RowTyper) -> None:
    """Keep the rows of a batch that cannot be read, so that the batch's rows are still counted."""
    batch.records_read = len(records)
    batch.quarantine = [
        {"row_number": n, "reason": "", "raw": typer.raw_json([clean_text(c) for c in rec])}
        for n, rec in enumerate(records, start=1)
    ]


def _read_record(
    rec: list,
    number: int,
    is_last: bool,
    headers: list[str],
    mapping: dict[int, Field],
    extra_positions: dict[int, str],
    legacy: Legacy | None,
    typer: RowTyper,
    batch: Batch,
    seen: dict[tuple, int],
) -> None:
    values = [clean_text(c) for c in rec]
    raw_cells = {headers[i] if i < len(headers) else f"_{i}": v for i, v in enumerate(values)}

    def quarantine(reason: str, cells: dict) -> None:
        batch.quarantine.append({"row_number": number, "reason": reason, "raw": typer.raw_json(cells)})

    # Redacted when stored (`raw_json`): identifier columns by name, every value by meaning.
    if len(values) != len(headers):
        # Fields are shifted: every value is kept under the header at its position (`_<i>` past the
        # last one), none of them trusted to be what its header says.
        kind = "truncated row" if is_last and len(values) < len(headers) else "wrong number of fields"
        quarantine(f"{kind}: {len(values)} fields, header has {len(headers)}", raw_cells)
        return
    named = {mapping[i].column: v for i, v in enumerate(values) if i in mapping}
    named |= {extra_positions[i]: v for i, v in enumerate(values) if i in extra_positions}
    if legacy:
        bad = next((ch for v in values if v for ch in [unconvertible(v)] if ch), None)
        if bad:
            quarantine(f"legacy {legacy} text could not be converted (character {bad!r})", named)
            return
    cells = {mapping[i].column: v for i, v in enumerate(values) if i in mapping}
    missing = [c for c in typer.source.row_required if cells.get(c) is None]
    if missing:
        quarantine(f"required value missing: {', '.join(missing)}", cells)
        return
    fingerprint = tuple(values)
    if fingerprint in seen:
        quarantine(f"duplicate of row {seen[fingerprint]} in the same file", cells)
        return
    seen[fingerprint] = number
    row = typer.type_row(cells)
    if typer.source.sequences:
        row["format"] = "csv"
    extra = {extra_positions[i]: v for i, v in enumerate(values) if i in extra_positions and v}
    row.update(
        batch_id=batch.batch_id,
        file=batch.file,
        row_number=number,
        extra=typer.raw_json(extra) if extra else None,
        _raw=typer.raw_json(cells),
    )
    batch.rows.append(row)


def read_fasta(data: bytes, batch: Batch, typer: RowTyper, limits: FileLimits) -> None:
    from Bio import SeqIO

    text, batch.encoding = decode(data)
    if text.strip() and not text.lstrip().startswith(">"):
        raise BatchError("not a FASTA file: the first record does not start with '>'")
    batch.records_read = sum(line.startswith(">") for line in text.splitlines())
    if batch.records_read > limits.max_rows:
        raise BatchError(f"more than {limits.max_rows:,} records (LIETSI_MAX_ROWS)")
    for number, record in enumerate(SeqIO.parse(io.StringIO(text), "fasta"), start=1):
        sequence = str(record.seq).upper()
        raw = typer.raw_json({"id": record.id, "length": str(len(sequence))})
        if not record.id or not sequence:
            reason = "FASTA record without id" if not record.id else "FASTA record without sequence"
            batch.quarantine.append({"row_number": number, "reason": reason, "raw": raw})
            continue
        if len(sequence) > limits.max_sequence_length:
            reason = (
                f"FASTA record of {len(sequence):,} bases, longer than {limits.max_sequence_length:,} "
                "(LIETSI_MAX_SEQUENCE_LENGTH; a whole mitochondrial genome is 16,569)"
            )
            batch.quarantine.append({"row_number": number, "reason": reason, "raw": raw})
            continue
        batch.rows.append(
            {
                "sample_id": record.id,
                "format": "fasta",
                "sequence": sequence,
                "batch_id": batch.batch_id,
                "file": batch.file,
                "row_number": number,
                "_raw": raw,
            }
        )
