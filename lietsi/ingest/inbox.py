"""Inbox files and folders to batches: a file is never followed through a link, never read past its
limit, and a broken file fails only its own batch."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from lietsi.ingest.batches import Batch, BatchError, quarantine_all
from lietsi.ingest.decoding import read_csv_records, read_xlsx_records
from lietsi.ingest.limits import FileLimits
from lietsi.ingest.records import read_fasta, read_records
from lietsi.ingest.row_typing import RowTyper
from lietsi.privacy import (
    redact_identifiers,
)
from lietsi.schema import Source

FASTA_SUFFIXES = (".fasta", ".fa", ".fas")


def _checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_name(path: Path) -> str:
    """The file's name as text: a name that is not UTF-8 (a Windows-1258 zip) shows its odd bytes as
    `\\xNN` instead of failing the folder, and stays distinct from other names."""
    return os.fsencode(path.name).decode("utf-8", "backslashreplace")


def read_no_follow(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing a symbolic link even if one replaced the file since it was listed."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise BatchError(f"cannot be opened (a symbolic link?): {exc.strerror}") from exc
    with os.fdopen(handle, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise BatchError(f"larger than {limit:,} bytes")
    return data


def rejected_batch(path: Path, source: Source, reason: str) -> Batch:
    """A file that is not read at all (a symbolic link, a file over the size limit): one quarantine row."""
    name = file_name(path)
    batch = Batch(source.folder, name, _checksum(f"unread:{name}".encode())[:16], path.lstat().st_size)
    batch.status, batch.message, batch.records_read = "failed", reason, 1
    batch.quarantine = [{"row_number": 0, "reason": f"batch rejected: {reason}", "raw": json.dumps({})}]
    return batch


def read_batch(path: Path, source: Source, hash_key: bytes, limits: FileLimits = FileLimits()) -> Batch:
    """Read one inbox file. Never raises: a broken file comes back with status `failed`."""
    if path.is_symlink():
        return rejected_batch(path, source, "symbolic link: not followed (copy the file into the inbox)")
    if path.lstat().st_size > limits.max_bytes:
        return rejected_batch(path, source, f"larger than {limits.max_bytes:,} bytes (LIETSI_MAX_FILE_BYTES)")
    try:
        data = read_no_follow(path, limits.max_bytes)
    except BatchError as exc:
        return rejected_batch(path, source, str(exc))
    batch = Batch(source.folder, file_name(path), _checksum(data)[:16], len(data))
    typer = RowTyper(source, hash_key)
    try:
        if path.suffix.lower() in FASTA_SUFFIXES:
            if not source.sequences:
                raise BatchError(f"FASTA files are not expected in '{source.folder}'")
            read_fasta(data, batch, typer, limits)
        elif path.suffix.lower() == ".xlsx":
            read_records(read_xlsx_records(data, limits), source, typer, batch)
        elif path.suffix.lower() == ".csv":
            records, batch.encoding, batch.delimiter = read_csv_records(data, limits)
            read_records(records, source, typer, batch)
        else:
            raise BatchError(f"unsupported file type '{path.suffix}' (expected .csv, .xlsx, .fasta)")
    except Exception as exc:
        # Any parser error is this file's failure, never the folder's: the message names the cause.
        text = str(exc) if isinstance(exc, BatchError) else f"unreadable file ({type(exc).__name__}: {exc})"
        text = redact_identifiers(text, hash_key)
        batch.status, batch.message = "failed", text
        quarantine_all(batch, f"batch rejected: {text}")
        if not batch.quarantine:
            preview = typer.raw_json({"first_bytes": data[:120].decode("latin-1")})
            batch.quarantine = [{"row_number": 0, "reason": f"batch rejected: {text}", "raw": preview}]
            batch.records_read = 1
    return batch


def read_folder(
    folder: Path, source: Source, hash_key: bytes, limits: FileLimits = FileLimits()
) -> list[Batch]:
    """Every batch of one inbox folder, in file-name order (deterministic ids and outputs).

    A file whose bytes equal an earlier-arrived file's is a re-dropped batch: its rows are quarantined as
    duplicates so that re-sending a file never doubles the data. A symbolic link is never followed:
    it is a failed batch with the reason.
    """
    if not folder.is_dir():
        return []
    batches: list[Batch] = []
    first_of: dict[str, str] = {}
    files = [p for p in folder.iterdir() if (p.is_symlink() or p.is_file()) and not p.name.startswith(".")]
    stated = _manifest_checksums(folder / source.manifest, limits) if source.manifest else None
    files = [p for p in files if p.name != source.manifest]
    # Of identical files the one that arrived first is the batch, whatever the copy is named
    # (`dot_1 (1).csv` sorts before `dot_1.csv`): rows keep their original file and ids.
    for path in sorted(files, key=lambda p: (p.lstat().st_mtime_ns, os.fsencode(p.name))):
        batch = _checked(path, source, stated, limits) or read_batch(path, source, hash_key, limits)
        if batch.status == "ok" and batch.batch_id in first_of:
            batch.status = "duplicate"
            batch.message = f"identical to '{first_of[batch.batch_id]}'"
            quarantine_all(batch, f"duplicate batch: file identical to '{first_of[batch.batch_id]}'")
        first_of.setdefault(batch.batch_id, batch.file)
        batches.append(batch)
    return sorted(batches, key=lambda b: b.file)


def _manifest_checksums(path: Path, limits: FileLimits) -> dict[str, str] | str:
    """file name → SHA-256 the folder's manifest states, or why the manifest cannot be read."""
    try:
        manifest = json.loads(read_no_follow(path, min(limits.max_bytes, 1_000_000)).decode("utf-8"))
        files = manifest["files"]
        return {str(name): str(entry["sha256"]) for name, entry in files.items()}
    except FileNotFoundError:
        return f"{path.name} is missing"
    except (BatchError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"{path.name} is unreadable ({type(exc).__name__})"


def _checked(
    path: Path, source: Source, stated: dict[str, str] | str | None, limits: FileLimits
) -> Batch | None:
    """A failed batch when the folder's manifest does not vouch for the file; None when it does (or
    the source has no manifest)."""
    if stated is None:
        return None
    if isinstance(stated, str):
        return rejected_batch(path, source, f"not checked: {stated}")
    if path.name not in stated:
        return rejected_batch(path, source, f"not listed in {source.manifest}")
    try:
        data = read_no_follow(path, limits.max_bytes)
    except BatchError as exc:
        return rejected_batch(path, source, str(exc))
    if hashlib.sha256(data).hexdigest() != stated[path.name]:
        return rejected_batch(path, source, f"SHA-256 differs from {source.manifest} (changed on the way?)")
    return None
