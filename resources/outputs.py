"""Where a run writes its pages: `OUT_DIR/runs/<run_id>/`, and `OUT_DIR/latest` pointing at the last run.

Every writer (maps, worklists, identification pages, reports, exports) asks `run_folder` for its
run's folder, so no page of one run can land beside another run's. `publish_latest` moves the
`latest` symlink when a run ends, in one `rename`: a reader of `latest/` sees one whole run, never a
mix, and a run that wrote nothing leaves `latest` where it was. Old run folders beyond `KEEP_RUNS`
are removed then: they hold relatives' names (worklists), so they are not kept forever.

`OUT_DIR/index.html` is a fixed page sending the reader on to `latest/index.html`, so the address a
province bookmarks stays the same from run to run; it holds no text of any run.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from lietsi.ops.export import write_atomic

RUNS = "runs"
LATEST = "latest"
# Enough for a week of nightly runs plus a few sensor runs, without keeping personal data forever.
KEEP_RUNS = 10
ENTRY_PAGE = "index.html"
_ENTRY_HTML = f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="0; url={LATEST}/index.html">
<title>Xác định danh tính hài cốt liệt sĩ</title>
</head>
<body>
<p><a href="{LATEST}/index.html">Trang chủ của lần chạy mới nhất (the latest run's pages)</a></p>
</body>
</html>
"""
# Dagster run ids are UUIDs; anything else must not become a path.
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _checked(run_id: str) -> str:
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"not a run id: {run_id!r}")
    return run_id


def run_folder(out_dir: Path, run_id: str) -> Path:
    """`out_dir/runs/<run_id>/`, created; the one place a run's pages may be written."""
    folder = Path(out_dir) / RUNS / _checked(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def publish_latest(out_dir: Path, run_id: str, keep: int = KEEP_RUNS) -> Path | None:
    """Point `out_dir/latest` at the run's folder (relative symlink), write `out_dir/index.html`
    (a redirect to `latest/index.html`) and prune old runs.

    Returns None, leaving `latest` alone, when the run wrote no page.
    """
    out_dir = Path(out_dir)
    folder = out_dir / RUNS / _checked(run_id)
    if not folder.is_dir():
        return None
    latest = out_dir / LATEST
    staged = out_dir / f".{LATEST}.{os.getpid()}"
    staged.unlink(missing_ok=True)
    staged.symlink_to(Path(RUNS) / run_id, target_is_directory=True)
    os.replace(staged, latest)
    write_atomic(out_dir / ENTRY_PAGE, _ENTRY_HTML.encode("utf-8"))
    _prune(out_dir / RUNS, keep, current=run_id)
    return latest


def _prune(runs: Path, keep: int, current: str) -> None:
    folders = sorted(
        (p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime_ns, reverse=True
    )
    for old in folders[keep:]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
