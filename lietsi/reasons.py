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
    # Review reasons of marts.identifications (lietsi.assignment).
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
    # The council's decisions (lietsi.council).
    "council.confirmed": (
        "hội đồng xác định đã xác nhận ngày {date} (biên bản {minutes})",
        "confirmed by the identification council on {date} (minutes {minutes})",
    ),
    "council.rejected": (
        "hội đồng xác định đã bác bỏ ngày {date} (biên bản {minutes})",
        "rejected by the identification council on {date} (minutes {minutes})",
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
