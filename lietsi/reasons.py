"""The one catalogue of reasons the pipeline gives: review reasons, outcomes, refusals and next
actions, each a stable code with a Vietnamese text and an English second line (docs/reasons.md).

The library records reasons as codes with parameters (a JSON list in the `*_codes` columns:
`[{"code": "review.dna_inconclusive", "params": {}}]`); the text columns beside them hold the
Vietnamese rendering, and pages show the Vietnamese with the English beneath. Parameters come from
the data (ids, ranges, inscriptions): they are formatted here as plain text and reach HTML only
through jinja2's autoescaping, never marked safe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

_FIELD = re.compile(r"\{[^{}]*\}")

# code → (Vietnamese, English); `str.format` templates over the reason's parameters.
CATALOGUE: dict[str, tuple[str, str]] = {
    # Review reasons of marts.identifications (lietsi.matching.assignment).
    "review.best_candidate_held": (
        "ứng viên tốt nhất {martyr_id} đã được gán cho hài cốt {holder}",
        "best candidate {martyr_id} is assigned to remains {holder}",
    ),
    "review.left_unassigned": ("chưa gán cho liệt sĩ nào", "left unassigned"),
    "review.martyr_fits_other_remains": (
        "liệt sĩ này cũng phù hợp với hài cốt {others}",
        "martyr also fits remains {others}",
    ),
    "review.remains_fits_other_martyrs": (
        "hài cốt này cũng phù hợp với liệt sĩ {others}",
        "remains also fits martyr {others}",
    ),
    "review.dna_inconclusive": ("ADN chưa kết luận được (một khác biệt)", "DNA inconclusive"),
    "review.dna_exclusion": ("ADN loại trừ", "DNA exclusion"),
    "review.excluded_by_reference": (
        "bị loại trừ bởi mẫu đối chiếu {references}",
        "excluded by reference(s) {references}",
    ),
    "review.posterior_below_threshold": (
        "xác suất {bound:.4f} khi tần suất haplotype ở cận trên 95%, dưới ngưỡng {threshold}",
        "posterior {bound:.4f} with the haplotype frequency at its 95% upper bound, below {threshold}",
    ),
    # The council's decisions (lietsi.matching.council).
    "council.confirmed": (
        "hội đồng xác định đã xác nhận ngày {date} (biên bản {minutes})",
        "confirmed by the identification council on {date} (minutes {minutes})",
    ),
    "council.rejected": (
        "hội đồng xác định đã bác bỏ ngày {date} (biên bản {minutes})",
        "rejected by the identification council on {date} (minutes {minutes})",
    ),
    # A pair one province's council confirmed for another province's martyr (lietsi.national).
    "council.confirmed_where_remains_lie": (
        "hội đồng xác định của tỉnh nơi có hài cốt (mã tỉnh {province_code}) đã xác nhận",
        "confirmed by the identification council of the province where the remains lie "
        "(code {province_code})",
    ),
    # Evidence factors of a pair (lietsi.matching: dna, register, pool, scoring): one or more reasons
    # per factor.
    "factor.dna_excluded": ("bị loại trừ: {differences} khác biệt", "excluded: {differences} differences"),
    "factor.dna_cannot_exclude": (
        "không loại trừ: {x} trên {n} dòng mẹ trong cơ sở dữ liệu của tỉnh có cùng haplotype, tần suất "
        "≤ {p_upper:.4f} (cận trên {confidence:.0%}), {p:.4f} với θ = {theta:g}, LR {lr:,.0f}",
        "cannot exclude: {x} of {n} maternal lines in the province's database share the haplotype, "
        "frequency ≤ {p_upper:.4f} ({confidence:.0%} upper bound), {p:.4f} with θ = {theta:g}, LR {lr:,.0f}",
    ),
    "factor.dna_cannot_exclude_independent": (
        "không loại trừ: {x_independent} trên {n_independent} hồ sơ trong cơ sở dữ liệu độc lập có cùng "
        "haplotype (nhiều hơn {x} trên {n} của tỉnh), tần suất ≤ {p_upper:.4f} (cận trên "
        "{confidence:.0%}), {p:.4f} với θ = {theta:g}, LR {lr:,.0f}",
        "cannot exclude: {x_independent} of {n_independent} profiles in the independent database "
        "(larger than the province's {x} of {n}) share the haplotype, frequency ≤ {p_upper:.4f} "
        "({confidence:.0%} upper bound), {p:.4f} with θ = {theta:g}, LR {lr:,.0f}",
    ),
    "factor.dna_inconclusive": (
        "chưa kết luận: {differences} khác biệt, ADN không có trọng số (LR {lr:g})",
        "inconclusive: {differences} difference, no DNA weight (LR {lr:g})",
    ),
    "factor.dna_counted": (
        "đếm trên đoạn {range} (hài cốt ∩ mẫu đối chiếu ∩ cơ sở dữ liệu) trong {database} "
        "phiên bản {version}",
        "counted on {range} (remains ∩ reference ∩ database) in {database} version {version}",
    ),
    "factor.dna_own_line": (
        "đã bỏ dòng mẹ của chính cặp này khỏi số đếm",
        "own line removed from the counts",
    ),
    "factor.dna_own_line_absent": ("dòng mẹ của cặp này không có trong số đếm", "own line not counted"),
    "factor.dna_independent_database": (
        "cơ sở dữ liệu độc lập: {database} {version}",
        "independent: {database} {version}",
    ),
    "factor.sex_unknown": ("chưa ước tính hoặc chưa ghi giới tính", "sex not estimated or not recorded"),
    "factor.sex_agrees": (
        "giới tính ước tính {est_sex} phù hợp (chiếm {share:.3f} số ước tính trong sổ)",
        "estimated sex {est_sex} agrees (share {share:.3f} of the register's estimates)",
    ),
    "factor.sex_disagrees": (
        "giới tính ước tính {est_sex}, liệt sĩ ghi {martyr_sex}",
        "estimated sex {est_sex}, martyr recorded {martyr_sex}",
    ),
    "factor.age_unknown": (
        "chưa ước tính tuổi hoặc không rõ năm sinh / năm hy sinh",
        "age not estimated or birth/death year unknown",
    ),
    "factor.age_inside": (
        "tuổi khi hy sinh {age} nằm trong khoảng ước tính {lo}-{hi}",
        "age at death {age} fits estimate {lo}-{hi}",
    ),
    "factor.age_near": (
        "tuổi khi hy sinh {age} cách khoảng ước tính {lo}-{hi} không quá {tolerance} năm",
        "age at death {age} is within {tolerance} years of estimate {lo}-{hi}",
    ),
    "factor.age_outside": (
        "tuổi khi hy sinh {age} nằm ngoài khoảng ước tính {lo}-{hi}",
        "age at death {age} is outside estimate {lo}-{hi}",
    ),
    "factor.place_unknown": (
        "chưa ghi nơi quy tập hoặc nơi hy sinh",
        "recovery place or place of death not recorded",
    ),
    "factor.place_same_text": (
        "nơi quy tập được ghi giống nơi hy sinh được ghi",
        "recovery place written as the recorded place of death",
    ),
    "factor.place_commune": (
        "quy tập cùng xã với nơi hy sinh được ghi",
        "recovered in the same commune as the recorded place of death",
    ),
    "factor.place_district": (
        "quy tập cùng huyện với nơi hy sinh được ghi",
        "recovered in the same district as the recorded place of death",
    ),
    "factor.place_province": (
        "quy tập cùng tỉnh với nơi hy sinh được ghi",
        "recovered in the same province as the recorded place of death",
    ),
    "factor.place_elsewhere": (
        "quy tập ở tỉnh khác với nơi hy sinh được ghi",
        "recovered in another province than the recorded place of death",
    ),
    "factor.place_different": (
        "nơi quy tập khác nơi hy sinh được ghi (không cùng định vị được trên bản đồ)",
        "recovery place and the recorded place of death differ (not both placed on the map)",
    ),
    "factor.unit_place_same_text": (
        "nơi quy tập được ghi giống địa bàn của đơn vị",
        "recovery place written as the area of his local unit",
    ),
    "factor.unit_place_commune": (
        "quy tập cùng xã với địa bàn của đơn vị",
        "recovered in the same commune as the area of his local unit",
    ),
    "factor.unit_place_district": (
        "quy tập cùng huyện với địa bàn của đơn vị",
        "recovered in the same district as the area of his local unit",
    ),
    "factor.unit_place_province": (
        "quy tập cùng tỉnh với địa bàn của đơn vị",
        "recovered in the same province as the area of his local unit",
    ),
    "factor.unit_place_elsewhere": (
        "quy tập ở tỉnh khác với địa bàn của đơn vị",
        "recovered in another province than the area of his local unit",
    ),
    "factor.unit_place_different": (
        "nơi quy tập khác địa bàn của đơn vị (không cùng định vị được trên bản đồ)",
        "recovery place and the area of his local unit differ (not both placed on the map)",
    ),
    "factor.compared_at_commune": ("so sánh ở cấp xã ({detail})", "compared at commune level ({detail})"),
    "factor.compared_at_district": (
        "so sánh ở cấp huyện ({detail})",
        "compared at district level ({detail})",
    ),
    "factor.compared_at_province": ("so sánh ở cấp tỉnh ({detail})", "compared at province level ({detail})"),
    "factor.compared_at_not_placed": (
        "địa điểm chưa định vị được, so sánh theo chữ ({detail})",
        "places not placed, compared as text ({detail})",
    ),
    "factor.distance_unknown": (
        "không có tọa độ quy tập hoặc không định vị được nơi hy sinh",
        "no recovery coordinates or no located place of death",
    ),
    "factor.distance": (
        "quy tập cách trung tâm nơi hy sinh được ghi {km:.1f} km ({band})",
        "recovered {km:.1f} km from the centre of the recorded place of death ({band})",
    ),
    "factor.date_unknown": (
        "không rõ ngày quy tập hoặc ngày hy sinh",
        "recovery date or date of death unknown",
    ),
    "factor.date_before": (
        "quy tập ({recovered}) trước ngày hy sinh được ghi ({died})",
        "recovered ({recovered}) before the recorded death ({died})",
    ),
    "factor.date_after": (
        "quy tập sau ngày hy sinh được ghi ({died} → {recovered})",
        "recovered after the recorded death ({died} → {recovered})",
    ),
    "factor.unit_area_unknown": (
        "không rõ vùng của nghĩa trang hoặc địa bàn của đơn vị",
        "cemetery region or the unit's area unknown",
    ),
    "factor.unit_area_place_known": (
        "nơi hy sinh hoặc đơn vị địa phương đã được ghi: yếu tố nơi chốn đã tính",
        "his place is on record (place of death or local unit): the place factor weighs it",
    ),
    "factor.unit_area": (
        "{there} trên {total} liệt sĩ được ghi của đơn vị {unit} hy sinh tại {province}",
        "{there} of {total} recorded deaths of unit {unit} were in {province}",
    ),
    "factor.artefact_unread": ("không đọc được tên nào trên di vật", "no name read on the artefacts"),
    "factor.artefact_no_martyr_name": ("liệt sĩ không có tên được ghi", "martyr has no recorded name"),
    "factor.artefact_full_name": (
        "chữ trên di vật «{inscription}» là họ tên đầy đủ của liệt sĩ",
        "artefact inscription «{inscription}» gives the martyr's full name",
    ),
    "factor.artefact_alias": (
        "chữ trên di vật «{inscription}» khớp bí danh của liệt sĩ",
        "artefact inscription «{inscription}» matches the martyr's alias",
    ),
    "factor.artefact_given_name": (
        "chữ trên di vật «{inscription}» khớp tên của liệt sĩ",
        "artefact inscription «{inscription}» matches the martyr's given name",
    ),
    "factor.artefact_other_name": (
        "chữ trên di vật «{inscription}» không phải tên liệt sĩ",
        "artefact inscription «{inscription}» does not name the martyr",
    ),
    "factor.hometown_unknown": ("không có quê quán để so sánh", "no hometown to compare"),
    "factor.hometown_named": (
        "di vật ghi quê quán của liệt sĩ: {unit}",
        "artefacts name the martyr's hometown {unit}",
    ),
    "factor.hometown_not_named": (
        "di vật không ghi địa danh nào thuộc quê quán của liệt sĩ",
        "artefacts name no place of the martyr's hometown",
    ),
    # Outcomes of remains and martyrs (marts.identification_outcomes).
    "outcome.no_profile": (
        "hài cốt chưa có hồ sơ ADN ty thể dùng được",
        "no usable mtDNA profile for these remains",
    ),
    "outcome.no_reference_match": (
        "không có mẫu đối chiếu nào cách một khác biệt trở xuống: dòng mẹ của liệt sĩ chưa có mẫu "
        "đối chiếu, hoặc hài cốt không thuộc liệt sĩ mất tích nào của tỉnh",
        "no reference profile within one difference: no reference sample on this maternal line, "
        "or the remains belong to no missing martyr of the province",
    ),
    "outcome.discordant_samples": (
        "các mẫu của hài cốt không khớp nhau (lẫn hài cốt hoặc nhiễm bẩn): {conflicts}",
        "discordant samples: commingling or contamination ({conflicts})",
    ),
    "outcome.only_inconclusive": (
        "chỉ có so sánh chưa kết luận ({n_pairs} mẫu đối chiếu cách một khác biệt)",
        "only inconclusive comparisons ({n_pairs} reference(s) one difference away)",
    ),
    "outcome.several_compatible": (
        "{n_match} liệt sĩ không loại trừ được; bằng chứng chưa chỉ ra một người "
        "(xác suất cao nhất {best:.3f})",
        "{n_match} martyr(s) cannot be excluded; evidence does not single one out "
        "(best posterior {best:.3f})",
    ),
    "outcome.no_reference_sample": (
        "dòng mẹ này chưa có mẫu đối chiếu",
        "no reference sample on this maternal line",
    ),
    "outcome.identified_elsewhere": (
        "đã được xác định: hội đồng tỉnh có mã {province_code} xác nhận hài cốt {remains_id} là liệt sĩ này",
        "identified: the council of province {province_code} confirmed remains {remains_id} as this martyr",
    ),
    "outcome.not_found": (
        "đã có mẫu đối chiếu; chưa hài cốt nào trong danh sách phù hợp",
        "reference sampled; no remains in the register matches",
    ),
    # References set aside before any comparison (refused_references).
    "refusal.no_consent": ("chưa có văn bản đồng ý: không so sánh", "no recorded consent: never compared"),
    "refusal.no_martyr": (
        "cùng ADN ty thể với không liệt sĩ nào được ghi nhận",
        "shares mtDNA with no recorded martyr",
    ),
    # Next actions (marts.next_actions).
    "action.sequence_mitogenome": (
        "{n_lines} dòng mẹ ({lines}) có cùng haplotype vùng điều khiển; giải trình tự toàn bộ hệ gen "
        "ty thể của hài cốt và một mẫu đối chiếu mỗi dòng có thể phân biệt",
        "{n_lines} maternal lines ({lines}) share this control-region haplotype; whole mitogenomes of "
        "the remains and one reference per line can separate them",
    ),
    "action.second_relative_inconclusive": (
        "một khác biệt với mẫu đối chiếu của dòng {line_id} (đột biến hoặc dị tế bào chất giữa thân "
        "nhân?): một thân nhân dòng mẹ khác của liệt sĩ {martyr_id} sẽ làm rõ",
        "one difference from the line {line_id}'s reference (a mutation or heteroplasmy between "
        "relatives?): another maternal relative of martyr {martyr_id} settles the comparison",
    ),
    "action.second_relative_partial": (
        "mẫu đối chiếu chỉ đọc {compared_range} trong đoạn của hài cốt: một thân nhân dòng mẹ khác "
        "của liệt sĩ {martyr_id} sẽ làm rõ",
        "the reference read only {compared_range} of the remains' range: another maternal relative "
        "of martyr {martyr_id} settles the comparison",
    ),
    "action.sample_relative": (
        "lấy mẫu thân nhân dòng mẹ {relative_id} ({kin}) của dòng {line_id}: liệt sĩ {martyr_id} "
        "chưa có mẫu đối chiếu dùng được",
        "sample maternal relative {relative_id} ({kin}) of line {line_id}: martyr {martyr_id} has no "
        "usable reference",
    ),
    "action.ask_consent_and_sample": (
        "xin đồng ý rồi lấy mẫu thân nhân dòng mẹ {relative_id} ({kin}) của dòng {line_id}: liệt sĩ "
        "{martyr_id} chưa có mẫu đối chiếu dùng được",
        "ask for consent, then sample maternal relative {relative_id} ({kin}) of line {line_id}: "
        "martyr {martyr_id} has no usable reference",
    ),
    "action.correct_citizen_id": (
        "phiếu không có số CCCD hợp lệ của thân nhân này: sửa trên phiếu 02, nếu không mẫu (ghi theo "
        "CCCD) không liên kết được với dòng mẹ",
        "the forms hold no valid citizen id for this relative: correct it on form 02, or the sample "
        "(logged by citizen id) cannot be linked to the line",
    ),
    "action.retest_remains": (
        "mẫu hài cốt hỏng ở phòng thí nghiệm; hài cốt có hồ sơ ADN được xác định {share:.0%} số lần "
        "ở tỉnh này",
        "the sample of these remains failed at the lab; a profiled remains is identified {share:.0%} "
        "of the time in this province",
    ),
    "action.retest_relative": (
        "mẫu của thân nhân dòng mẹ hỏng ở phòng thí nghiệm: phân tích lại",
        "a maternal relative's sample failed at the lab: analyse it again",
    ),
    "action.none_remains": (
        "không việc lấy mẫu hay giải trình tự nào phân biệt được các ứng viên (anh em cùng dòng mẹ, "
        "hoặc không có mẫu đối chiếu phù hợp)",
        "no sampling or sequencing action separates its candidates (brothers on one maternal line, "
        "or no compatible reference)",
    ),
    "action.none_martyr": (
        "phiếu không còn thân nhân dòng mẹ còn sống để lấy mẫu: cần khảo sát gia đình trước",
        "no living maternal relative left to sample on the forms: survey the family first",
    ),
}


def reason(code: str, **params: object) -> dict:
    """One reason: its code (checked against the catalogue) and its parameters."""
    if code not in CATALOGUE:
        raise KeyError(f"unknown reason code {code!r}")
    return {"code": code, "params": params}


def encode(reasons: Iterable[dict]) -> str | None:
    """The `*_codes` column value: a JSON list of reasons, or null when there is none."""
    items = list(reasons)
    return json.dumps(items, ensure_ascii=False, sort_keys=True) if items else None


def decode(codes: str | list | None) -> list[dict]:
    """The reasons of a `*_codes` value (JSON text or an already decoded list)."""
    if not codes:
        return []
    return json.loads(codes) if isinstance(codes, str) else list(codes)


def codes_of(codes: str | list | None) -> list[str]:
    """Just the codes, for grouping and tests."""
    return [r["code"] for r in decode(codes)]


def line(item: dict, lang: str = "vi") -> str:
    """One reason in one language (`vi` or `en`); parameters are rendered as plain text."""
    vi, en = CATALOGUE[item["code"]]
    return (vi if lang == "vi" else en).format(**item.get("params", {}))


def text(codes: str | list | None, lang: str = "vi") -> str | None:
    """The reasons as one text, `; `-separated (the text column beside the codes)."""
    items = decode(codes)
    return "; ".join(line(r, lang) for r in items) if items else None


def lines(codes: str | list | None) -> list[dict[str, str]]:
    """Each reason as {code, vi, en}: what the pages render, Vietnamese first."""
    return [{"code": r["code"], "vi": line(r, "vi"), "en": line(r, "en")} for r in decode(codes)]


def heading(code: str) -> dict[str, str]:
    """A code's texts with every parameter shown as `…`: the label of a group of reasons."""
    vi, en = CATALOGUE[code]
    return {"code": code, "vi": _FIELD.sub("…", vi), "en": _FIELD.sub("…", en)}


def listing(pairs: Iterable[tuple[object, float]]) -> str:
    """`id (0.400), id (0.100)`: the parameter that lists rival ids with their posteriors."""
    return ", ".join(f"{i} ({p:.3f})" for i, p in pairs)
