"""The inbox sources of the input contract: Vietnamese header labels → English column names.

One `Source` per inbox folder. Each field names the column it becomes in `raw.<folder>`, whether a
batch without it is rejected, and how its text is typed:

- `text`: NFC-normalised, trimmed string;
- `year`: `<col>` Int32 plus `<col>_approx` (``khoảng 1972``, ``1972?``);
- `date`: `<col>` (earliest day the text allows), `<col>_precision` (`day`/`month`/`year`),
  `<col>_approx`, and `<col>_text` (the text as written, for audits);
- `int`, `float`: numbers (`Số hộ`, coordinates);
- `citizen_id`, `phone`: never stored in clear; `<col>_hash` (keyed HMAC) and `<col>_valid`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "year", "date", "int", "float", "citizen_id", "phone"]


@dataclass(frozen=True)
class Field:
    header: str
    column: str
    kind: Kind = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    folder: str
    description: str
    fields: tuple[Field, ...]
    # Columns whose value must be present on a row for the row to be usable.
    row_required: tuple[str, ...] = ()
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sequences: bool = False
    # A folder delivered with a manifest (`files`: name → `sha256`): a file whose checksum differs
    # is refused, and the manifest itself is no batch.
    manifest: str | None = None

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]


# A CSV cell starting with one of these is run as a formula by a spreadsheet: every CSV the pipeline
# writes prefixes it with `'`, and a reader of those files removes the prefix (lietsi.national).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

YES_NO = ("Có", "Không")
SEX = ("Nam", "Nữ")

REGISTRY = Source(
    folder="registry",
    description="Martyr registry (Danh sách liệt sĩ): one row per record; a martyr may have several.",
    fields=(
        Field("Mã hồ sơ", "record_id", required=True),
        Field("Nguồn", "source_system"),
        Field("Họ và tên", "full_name", required=True, aliases=("Họ tên",)),
        Field("Tên khác", "alias", aliases=("Bí danh",)),
        Field("Giới tính", "sex"),
        Field("Năm sinh", "birth_year", "year"),
        Field("Quê quán", "hometown"),
        Field("Ngày nhập ngũ", "enlistment_date", "date"),
        Field("Cấp bậc", "rank"),
        Field("Chức vụ", "position"),
        Field("Đơn vị", "unit"),
        Field("Ngày hy sinh", "death_date", "date"),
        Field("Nơi hy sinh", "death_place"),
        Field("Họ tên cha", "father_name"),
        Field("Họ tên mẹ", "mother_name"),
        Field("Tình trạng mộ", "grave_status"),
        Field("Nghĩa trang", "cemetery"),
        Field("Vị trí mộ", "grave_position"),
        Field("Số bằng TQGC", "certificate_no"),
    ),
    row_required=("record_id", "full_name"),
    enums={"sex": SEX, "grave_status": ("Đã xác định", "Chưa xác định", "Chưa quy tập")},
)

_SURVEY_HEAD = (
    Field("Số phiếu", "form_no", required=True),
    Field("Xã khảo sát", "survey_commune"),
    Field("Ngày khảo sát", "survey_date", "date"),
)

PHIEU_01 = Source(
    folder="phieu_01",
    description="Survey form 01: martyrs with an identified grave and the allowance recipient.",
    fields=(
        *_SURVEY_HEAD,
        Field("Họ tên liệt sĩ", "martyr_name", required=True),
        Field("Năm sinh liệt sĩ", "martyr_birth_year", "year"),
        Field("Quê quán liệt sĩ", "martyr_hometown"),
        Field("Ngày hy sinh", "death_date", "date"),
        Field("Nghĩa trang", "cemetery"),
        Field("Vị trí mộ", "grave_position"),
        Field("Họ tên người hưởng trợ cấp", "recipient_name"),
        Field("Quan hệ với liệt sĩ", "relationship"),
        Field("Số CCCD người hưởng trợ cấp", "recipient_citizen_id", "citizen_id"),
        Field("Địa chỉ", "address"),
    ),
    row_required=("form_no", "martyr_name"),
)

PHIEU_02 = Source(
    folder="phieu_02",
    description="Survey form 02: martyrs without grave information, one row per relative.",
    fields=(
        *_SURVEY_HEAD,
        Field("Họ tên liệt sĩ", "martyr_name", required=True),
        Field("Giới tính liệt sĩ", "martyr_sex"),
        Field("Năm sinh liệt sĩ", "martyr_birth_year", "year"),
        Field("Quê quán liệt sĩ", "martyr_hometown"),
        Field("Ngày hy sinh", "death_date", "date"),
        Field("Nơi hy sinh", "death_place"),
        Field("Đơn vị", "unit"),
        Field("Họ tên mẹ liệt sĩ", "martyr_mother_name"),
        Field("Số bằng TQGC", "certificate_no"),
        Field("Họ tên thân nhân", "relative_name", required=True),
        Field("Giới tính thân nhân", "relative_sex"),
        Field("Năm sinh thân nhân", "relative_birth_year", "year"),
        Field("Số CCCD", "citizen_id", "citizen_id"),
        Field("Số điện thoại", "phone", "phone"),
        Field("Địa chỉ thường trú", "address"),
        Field("Quan hệ với liệt sĩ", "relationship", required=True),
        Field("Tình trạng sức khỏe", "health", aliases=("Tình trạng sức khoẻ",)),
        Field("Đồng ý cung cấp mẫu", "consent"),
    ),
    row_required=("form_no", "martyr_name", "relative_name"),
    enums={
        "martyr_sex": SEX,
        "relative_sex": SEX,
        "health": ("Bình thường", "Yếu", "Nặng"),
        "consent": YES_NO,
    },
)

HAI_COT = Source(
    folder="hai_cot",
    description="Remains register (hài cốt chưa xác định danh tính).",
    fields=(
        Field("Mã hài cốt", "remains_id", required=True),
        Field("Nghĩa trang", "cemetery"),
        Field("Vị trí mộ", "grave_position"),
        Field("Ngày quy tập", "recovery_date", "date"),
        Field("Nơi quy tập", "recovery_place"),
        Field("Vĩ độ", "lat", "float"),
        Field("Kinh độ", "lon", "float"),
        Field("Di vật", "artefacts"),
        Field("Giới tính ước tính", "est_sex"),
        Field("Tuổi ước tính", "est_age"),
        Field("Mã mẫu ADN", "sample_id"),
    ),
    row_required=("remains_id",),
    enums={"est_sex": SEX},
)

MAU_ADN = Source(
    folder="mau_adn",
    description="DNA sample collection log.",
    fields=(
        Field("Mã mẫu", "sample_id", required=True),
        Field("Loại mẫu", "sample_kind", required=True),
        Field("Mã hài cốt", "remains_id"),
        Field("Số CCCD", "citizen_id", "citizen_id"),
        Field("Ngày thu mẫu", "collection_date", "date"),
        Field("Nơi thu mẫu", "collection_place"),
    ),
    row_required=("sample_id", "sample_kind"),
    enums={"sample_kind": ("Hài cốt", "Thân nhân")},
)

KET_QUA_ADN = Source(
    folder="ket_qua_adn",
    description="mtDNA results from the laboratory (CSV rows and FASTA records).",
    fields=(
        Field("Mã mẫu", "sample_id", required=True),
        Field("Phòng thí nghiệm", "lab"),
        Field("Ngày trả kết quả", "result_date", "date"),
        Field("Vùng đọc được", "range"),
        Field("Haplotype", "haplotype"),
        Field("Chất lượng", "quality"),
    ),
    row_required=("sample_id",),
    enums={"quality": ("Đạt", "Không đạt")},
    sequences=True,
)

_PLACE = (
    Field("Tỉnh", "province"),
    Field("Huyện", "district"),
    Field("Xã", "commune", required=True),
    Field("Thôn", "village", required=True),
)

PHIEU_HO_GIA_DINH = Source(
    folder="phieu_ho_gia_dinh",
    description="Household information forms for the search map (phiếu số 01 hộ gia đình).",
    fields=(
        Field("Số phiếu", "form_no", required=True),
        *_PLACE,
        Field("Chủ hộ", "household_head"),
        Field("Năm sinh người khai", "reporter_birth_year", "year"),
        Field("Có thông tin", "has_info"),
        Field("Loại thông tin", "info_type"),
        Field("Họ tên liệt sĩ", "martyr_name"),
        Field("Mô tả", "description"),
        Field("Địa điểm", "place"),
        Field("Vĩ độ", "lat", "float"),
        Field("Kinh độ", "lon", "float"),
        Field("Ngày khai", "report_date", "date"),
    ),
    row_required=("form_no", "commune", "village"),
    enums={
        "has_info": YES_NO,
        "info_type": ("Mộ liệt sĩ", "Nơi chôn cất", "Thông tin liệt sĩ", "Nhân chứng"),
    },
)

KET_LUAN_DIA_BAN = Source(
    folder="ket_luan_dia_ban",
    description="Village conclusion meetings (kết luận địa bàn).",
    fields=(
        *_PLACE,
        Field("Số hộ", "households", "int"),
        Field("Số phiếu phát", "forms_out", "int"),
        Field("Số phiếu thu", "forms_back", "int"),
        Field("Ngày họp kết luận", "meeting_date", "date"),
        Field("Kết luận", "conclusion"),
    ),
    row_required=("commune", "village"),
    enums={"conclusion": ("Có thông tin", "Không có thông tin")},
)

XAC_NHAN = Source(
    folder="xac_nhan",
    description="Decisions of the provincial identification council on (remains, martyr) pairs.",
    fields=(
        Field("Mã hài cốt", "remains_id", required=True),
        Field("Mã liệt sĩ", "martyr_id"),
        Field("Số bằng TQGC", "certificate_no"),
        Field("Quyết định", "decision", required=True),
        Field("Ngày quyết định", "decision_date", "date"),
        Field("Số biên bản", "minutes_ref"),
        Field("Kết quả giám định lại", "retest_result"),
        Field("Ghi chú", "note"),
    ),
    row_required=("remains_id", "decision"),
    enums={"decision": ("Xác nhận", "Bác bỏ"), "retest_result": ("Phù hợp", "Không phù hợp")},
)

NATIONAL_STATUSES = {"proposed": "Đề xuất", "needs_review": "Cần xem xét"}
QUOC_GIA = Source(
    folder="quoc_gia",
    description="Candidates of the national run (ket_qua_quoc_gia.csv, docs/national.md): remains in "
    "the province's cemeteries named as another province's martyr, and the province's martyrs named "
    "for remains elsewhere. Optional: most runs have none.",
    fields=(
        Field("Mã tỉnh hài cốt", "remains_province_code", required=True),
        Field("Mã hài cốt", "remains_id", required=True),
        Field("Nghĩa trang", "cemetery"),
        Field("Mã tỉnh liệt sĩ", "martyr_province_code", required=True),
        Field("Mã liệt sĩ", "martyr_id", required=True),
        Field("Họ và tên liệt sĩ", "martyr_name"),
        Field("Trạng thái", "status", required=True),
        Field("Xác suất", "posterior", "float"),
        Field("Xác suất tại cận 95%", "posterior_bound", "float"),
        Field("Thứ tự xem xét", "review_rank", "int"),
        Field("Lý do", "reasons"),
    ),
    row_required=("remains_province_code", "remains_id", "martyr_province_code", "martyr_id", "status"),
    enums={"status": tuple(NATIONAL_STATUSES.values())},
    manifest="manifest.json",
)

SOURCES: dict[str, Source] = {
    s.folder: s
    for s in (
        REGISTRY,
        PHIEU_01,
        PHIEU_02,
        HAI_COT,
        MAU_ADN,
        KET_QUA_ADN,
        PHIEU_HO_GIA_DINH,
        KET_LUAN_DIA_BAN,
        XAC_NHAN,
        QUOC_GIA,
    )
}

# Folders that answer runs rather than start them (the council's decisions, the national run's
# candidates): optional, and not written by the generator of a new province.
ANSWER_FOLDERS = (XAC_NHAN.folder, QUOC_GIA.folder)

# Columns holding personal data of living people, by name in any table (contract columns and those the
# stages derive from them): never shown outside the warehouse, e.g. in Dagster's metadata previews.
PERSONAL_COLUMNS = frozenset(
    {
        # addresses and where a living relative lives
        "address",
        "address_commune",
        "address_district",
        "address_province",
        # names of living relatives and household heads
        "relative_name",
        "recipient_name",
        "household_head",
        "mother_name",
        "father_name",
        "martyr_mother_name",
        # family relationships, health, consent
        "relationship",
        "relationship_text",
        "health",
        "consent",
        # free text that may hold any of these
        "description",
        "note",
        "extra",
        "parse_warnings",
        "raw",
        # identifiers (the clear contract columns; their keyed hashes end in `_hash`)
        "citizen_id",
        "recipient_citizen_id",
        "phone",
    }
)


def is_personal(column: str) -> bool:
    """True for a column of `PERSONAL_COLUMNS` or a keyed hash (a pseudonym that links back to a person)."""
    return column in PERSONAL_COLUMNS or column.endswith("_hash")
