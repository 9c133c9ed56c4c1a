"""Split a generated province's inbox into drops, the way files reach a province over a campaign.

The registry comes first (the list of martyrs exists before any survey); then the survey forms,
district by district, over `form_drops` drops, with the remains register in the first of them and
the search-map forms in the last; then the laboratory: the sample log with the first batch of
results, and the result batches (`ket_qua_<n>.csv` with its `.fasta`) spread over `lab_drops`
drops. `python -m pipelines.synth … --drops N` writes `<out>/drops/<k>/<folder>/<file>`;
`apply_drop` copies one into an inbox as an office would drop it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

FORMS = ("phieu_01", "phieu_02")
WITH_FIRST_FORMS = ("hai_cot",)
WITH_LAST_FORMS = ("phieu_ho_gia_dinh", "ket_luan_dia_ban", "trang_thai_diem")
WITH_FIRST_LAB = ("mau_adn",)
_FORM_DISTRICT = re.compile(r"^phieu_0[12]_(.+)$")


def _chunks(items: list[str], n: int) -> list[list[str]]:
    """`items` in `n` contiguous, nearly equal, non-empty chunks (fewer when there are fewer items)."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def plan_drops(inbox: Path, form_drops: int = 3, lab_drops: int = 3) -> list[list[str]]:
    """Inbox-relative paths of each drop, in arrival order; every file in exactly one drop."""
    files = sorted(p.relative_to(inbox).as_posix() for p in inbox.glob("*/*") if p.is_file())
    by_folder: dict[str, list[str]] = {}
    for f in files:
        by_folder.setdefault(f.split("/", 1)[0], []).append(f)

    def district(path: str) -> str:
        stem = Path(path).stem
        match = _FORM_DISTRICT.match(stem)
        return match.group(1) if match else stem

    districts = sorted({district(f) for folder in FORMS for f in by_folder.get(folder, [])})
    form_groups = _chunks(districts, form_drops) if districts else [[]]
    forms = [
        [f for folder in FORMS for f in by_folder.get(folder, []) if district(f) in group]
        for group in form_groups
    ]
    forms[0] += [f for folder in WITH_FIRST_FORMS for f in by_folder.get(folder, [])]
    forms[-1] += [f for folder in WITH_LAST_FORMS for f in by_folder.get(folder, [])]

    batches = sorted({Path(f).stem for f in by_folder.get("ket_qua_adn", [])})
    lab = [
        [f for f in by_folder.get("ket_qua_adn", []) if Path(f).stem in group]
        for group in (_chunks(batches, lab_drops) if batches else [[]])
    ]
    lab[0] += [f for folder in WITH_FIRST_LAB for f in by_folder.get(folder, [])]

    drops = [by_folder.get("registry", []), *forms, *lab]
    placed = {f for drop in drops for f in drop}
    # A folder no rule names (a future source) arrives with the last drop rather than never.
    drops[-1] += [f for f in files if f not in placed]
    return [sorted(drop) for drop in drops if drop]


def write_drops(out_dir: Path, form_drops: int = 3, lab_drops: int = 3) -> list[Path]:
    """Copy `out_dir/inbox` into `out_dir/drops/01/…`, `02/…`; returns the drop folders in order."""
    inbox, root = Path(out_dir) / "inbox", Path(out_dir) / "drops"
    shutil.rmtree(root, ignore_errors=True)
    folders = []
    for k, drop in enumerate(plan_drops(inbox, form_drops, lab_drops), start=1):
        folder = root / f"{k:02d}"
        for relative in drop:
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(inbox / relative, target)
        folders.append(folder)
    return folders


def apply_drop(drop: Path, inbox: Path) -> list[str]:
    """Copy one drop's files into `inbox` (as an office drops them); returns the paths added."""
    added = []
    for path in sorted(p for p in drop.glob("*/*") if p.is_file()):
        relative = path.relative_to(drop)
        (inbox / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, inbox / relative)
        added.append(relative.as_posix())
    return added
