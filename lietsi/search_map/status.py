"""The status file (`trang_thai_diem/`): verified, excavated or no remains found, per site."""

from __future__ import annotations

import polars as pl

from lietsi.schema import Field, Source
from lietsi.search_map.keys import fold
from lietsi.search_map.quarantine import quarantine_frame, quarantine_row

STATUSES = ("reported", "verified", "excavated", "no remains found")
_STATUS_LABELS = {
    "reported": "reported",
    "da bao cao": "reported",
    "bao cao": "reported",
    "moi bao cao": "reported",
    "verified": "verified",
    "da xac minh": "verified",
    "xac minh": "verified",
    "excavated": "excavated",
    "da khai quat": "excavated",
    "khai quat": "excavated",
    "da quy tap": "excavated",
    "no remains found": "no remains found",
    "khong tim thay hai cot": "no remains found",
    "khong co hai cot": "no remains found",
    "khong thay hai cot": "no remains found",
}

SITE_STATUS = Source(
    folder="trang_thai_diem",
    description=(
        "Project extension of the input contract: status of search sites after field work "
        "(verified, excavated, no remains found), referenced by site id or household form number."
    ),
    fields=(
        Field("Mã điểm", "site_id", aliases=("Site id", "Mã điểm tìm kiếm")),
        Field("Số phiếu", "form_no", aliases=("Form number",)),
        Field("Trạng thái", "status", required=True, aliases=("Status",)),
        Field("Ngày cập nhật", "status_date", "date", aliases=("Date", "Ngày")),
        Field("Ghi chú", "note", aliases=("Note",)),
    ),
    row_required=("status",),
)


def normalise_status(text: str | None) -> str | None:
    """`Đã khai quật` → `excavated`; None when the label is not one of the four statuses."""
    return _STATUS_LABELS.get(fold(text))


def apply_status(
    sites: pl.DataFrame, site_reports: pl.DataFrame, status: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(sites with status, quarantine of status rows that cannot be used).

    `status` is the `trang_thai_diem/` table (columns of `SITE_STATUS` plus `file`, `row_number`).
    A row names a site by `site_id` or by any member `form_no` (preferred: a form number outlives
    the site id when a smaller-numbered report later joins the site). The latest row per site
    wins, by `status_date` then file and row order.
    """
    if status is None or status.is_empty():
        return sites, quarantine_frame([])
    by_form = dict(zip(site_reports["form_number"], site_reports["site_id"], strict=True))
    known = set(sites["site_id"])
    latest: dict[str, tuple[tuple, str, object]] = {}
    quarantine: list[dict] = []
    for row in status.iter_rows(named=True):
        label = normalise_status(row.get("status"))
        if label is None:
            quarantine.append(
                quarantine_row(SITE_STATUS.folder, row, f"unknown status '{row.get('status')}'")
            )
            continue
        sid = (row.get("site_id") or "").strip()
        form = (row.get("form_no") or "").strip().upper()
        target = sid if sid in known else by_form.get(form)
        if sid and form and sid in known and by_form.get(form) not in (None, sid):
            quarantine.append(
                quarantine_row(SITE_STATUS.folder, row, f"site {sid} and form {form} name different sites")
            )
            continue
        if target is None:
            quarantine.append(
                quarantine_row(SITE_STATUS.folder, row, f"no site with id '{sid}' or form '{form}'")
            )
            continue
        order = (
            row.get("status_date") is not None,
            row.get("status_date"),
            row.get("file") or "",
            row.get("row_number") or 0,
        )
        if target not in latest or order >= latest[target][0]:
            latest[target] = (order, label, row.get("status_date"))
    updates = pl.DataFrame(
        [{"site_id": k, "_status": v[1], "_status_date": v[2]} for k, v in latest.items()],
        schema={"site_id": pl.Utf8, "_status": pl.Utf8, "_status_date": pl.Date},
        orient="row",
    )
    out = (
        sites.join(updates, on="site_id", how="left")
        .with_columns(
            pl.coalesce("_status", "status").alias("status"),
            pl.coalesce("_status_date", "status_date").alias("status_date"),
        )
        .drop("_status", "_status_date")
    )
    return out, quarantine_frame(quarantine)
