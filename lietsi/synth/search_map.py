"""The search map campaign of one district: household forms and village conclusion meetings.

Every village (thôn / ấp / buôn / bon / tổ dân phố) gets a form per household; most come back.
A burial site known to the village is reported by several households, in their own words and
only sometimes with coordinates, so the pipeline must merge reports into sites. Villages hold a
conclusion meeting once the forms are in; some have not yet, and some concluded below the 95%
coverage the campaign asks for.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

from lietsi.schema import KET_LUAN_DIA_BAN, PHIEU_HO_GIA_DINH
from lietsi.synth import names, places
from lietsi.synth.dirt import Dirt
from lietsi.synth.martyrs import Martyr
from lietsi.synth.truth import Truth
from lietsi.synth.writers import FileStyle, Sink

_LANDMARKS = (
    "gò đất",
    "bờ kênh",
    "gốc cây dầu",
    "vườn dừa",
    "ruộng lúa",
    "bìa rừng tràm",
    "ngã ba kênh",
    "sân đình cũ",
    "bờ sông",
    "nền nhà cũ",
)
_WHERE = (
    "phía sau nhà ông {n}",
    "cạnh kênh {k}",
    "gần cầu {k}",
    "cách trường học {d}m",
    "đầu {v}",
    "cuối {v}",
    "giáp ranh {w}",
)
_CANALS = ("Xáng", "Ba Thước", "Thứ Mười", "Chống Mỹ", "Kênh Tắt", "Rạch Sỏi", "Cái Bé")


def _descriptions(rng: random.Random, count: int, vils: list[str], at: list[int]) -> list[tuple[str, str]]:
    """(landmark, where) of each site of one commune. Households describe a site by its own local
    landmark, so two sites of a commune never share one; `where` names the village (`đầu Ấp 3`), a
    neighbouring one, a canal, a bridge or a house, never two sites alike."""
    landmarks = rng.sample(_LANDMARKS, count)
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    for landmark, village in zip(landmarks, at, strict=True):
        while True:
            neighbour = vils[village + 1] if village + 1 < len(vils) else vils[village - 1]
            where = rng.choice(_WHERE).format(
                n=names.given_name(names.full_name(rng, "Nam")),
                k=rng.choice(_CANALS),
                d=rng.choice((100, 200, 300, 500)),
                v=vils[village],
                w=neighbour,
            )
            if where not in used:
                break
        used.add(where)
        out.append((landmark, where))
    return out


def _variant(rng: random.Random, landmark: str, where: str, dirt: Dirt, kinds: list[str]) -> str:
    """The same place in another household's words."""
    r = rng.random()
    text = (
        f"{landmark} {where}",
        f"Khu vực {landmark}, {where}",
        f"{where}, chỗ {landmark}",
        f"{landmark.capitalize()} ({where})",
        f"Ở {where}",
    )[min(int(r * 5), 4)]
    return dirt.text(text, kinds)


def _jitter(rng: random.Random, lat: float, lon: float) -> tuple[str, str]:
    metres = rng.uniform(20, 200)
    angle = rng.uniform(0, 2 * math.pi)
    dlat = metres * math.cos(angle) / 111_320
    dlon = metres * math.sin(angle) / (111_320 * math.cos(math.radians(lat)))
    return f"{lat + dlat:.6f}", f"{lon + dlon:.6f}"


def write_search_map(
    inbox: Path, province: places.Province, district: str, martyrs: list[Martyr], seed: int, truth: Truth
) -> None:
    rng = random.Random(f"{seed}:search:{district}")
    dirt = Dirt(rng)
    communes = [c for c in province.communes if c.district == district]
    if not communes:
        raise ValueError(f"district {district!r} is not in {province.name}: {province.districts}")
    unrecovered = [m for m in martyrs if m.grave_status == "Chưa quy tập" and m.commune.district == district]
    conclusions = Sink(
        inbox, KET_LUAN_DIA_BAN, f"ket_luan_{_slug(district)}.csv", FileStyle(header_variant=True), truth.dirt
    )
    site_no = 0
    for ci, c in enumerate(communes):
        style = (
            FileStyle(fmt="xlsx", title=f"PHIẾU THU THẬP THÔNG TIN - {c.full.upper()}")
            if ci == 1
            else FileStyle(legacy="tcvn3")
            if ci == 2
            else FileStyle(sep=";")
            if ci == 3
            else FileStyle()
        )
        forms = Sink(
            inbox,
            PHIEU_HO_GIA_DINH,
            f"phieu_ho_{_slug(c.name)}.{'xlsx' if style.fmt == 'xlsx' else 'csv'}",
            style,
            truth.dirt,
        )
        vils = places.villages(rng, province, c)
        # Sites of this commune: each in one village, reported from it and its neighbours.
        sites = []
        n_sites = rng.choice((1, 2, 2, 3, 3, 4, 5))
        at = [rng.randrange(len(vils)) for _ in range(n_sites)]
        for village, (landmark, where) in zip(at, _descriptions(rng, n_sites, vils, at), strict=True):
            site_no += 1
            lat, lon = places.point_in(rng, c)
            martyr = (
                unrecovered.pop(rng.randrange(len(unrecovered)))
                if unrecovered and rng.random() < 0.5
                else None
            )
            uid = f"SITE{site_no:04d}"
            n_reports = min(1 + int(rng.expovariate(0.6)), 8)
            sites.append((uid, village, lat, lon, martyr, landmark, where, n_reports))
            truth.write(
                "sites",
                {
                    "site_uid": uid,
                    "province": province.name,
                    "district": district,
                    "commune": c.name,
                    "village": vils[village],
                    "lat": lat,
                    "lon": lon,
                    "martyr_uid": martyr.uid if martyr else "",
                    "landmark": landmark,
                    "location": where,
                },
            )
        form_seq = 0
        for vi, v in enumerate(vils):
            households = rng.randint(80, 450)
            forms_out = households if rng.random() < 0.9 else households - rng.randint(1, 10)
            coverage = rng.uniform(0.95, 1.0) if rng.random() < 0.75 else rng.uniform(0.6, 0.95)
            forms_back = min(forms_out, round(households * coverage))
            reports = [
                s
                for s in sites
                for _ in range(s[7])
                if abs(s[1] - vi) <= 1 and (s[1] == vi or rng.random() < 0.3)
            ]
            reports = reports[:forms_back]
            slots = sorted(rng.sample(range(forms_back), len(reports)))
            report_at = dict(zip(slots, reports, strict=True))
            has_info = False
            for h in range(forms_back):
                form_seq += 1
                form_no = f"HGD-{ci + 1:02d}{vi + 1:02d}-{h + 1:04d}"
                kinds: list[str] = []
                head = names.full_name(rng, "Nam" if rng.random() < 0.7 else "Nữ")
                date = dt.date(2024, 9, 1) + dt.timedelta(days=rng.randrange(200))
                row = {
                    "form_no": form_no,
                    "province": province.name if rng.random() < 0.9 else "",
                    "district": district,
                    "commune": c.name,
                    "village": v,
                    "household_head": dirt.name(head, kinds, allow_abbrev=False),
                    "reporter_birth_year": str(rng.randint(1935, 1995)),
                    "has_info": "Không",
                    "report_date": f"{date.day:02d}/{date.month:02d}/{date.year}",
                }
                site = report_at.get(h)
                if site is not None:
                    uid, _, lat, lon, martyr, landmark, where, _ = site
                    has_info = True
                    row.update(
                        {
                            "has_info": "Có",
                            "info_type": rng.choice(("Mộ liệt sĩ", "Nơi chôn cất")),
                            "martyr_name": (
                                martyr.name
                                if rng.random() < 0.5
                                else (martyr.alias or names.given_name(martyr.name))
                            )
                            if martyr
                            else "",
                            "description": "Có người chôn liệt sĩ"
                            if rng.random() < 0.5
                            else "Nghe kể lại có mộ liệt sĩ",
                            "place": _variant(rng, landmark, where, dirt, kinds),
                        }
                    )
                    if rng.random() < 0.35:
                        row["lat"], row["lon"] = _jitter(rng, lat, lon)
                    n = forms.row(row, kinds)
                    truth.write(
                        "site_reports",
                        {"form_number": form_no, "site_uid": uid, "file": forms.name, "row_number": n},
                    )
                    continue
                if rng.random() < 0.01:
                    row.update(
                        {
                            "has_info": "Có",
                            "info_type": rng.choice(("Thông tin liệt sĩ", "Nhân chứng")),
                            "description": "Biết thông tin về liệt sĩ trong ấp",
                        }
                    )
                forms.row(row, kinds)
            concluded = rng.random() < 0.85
            meeting = dt.date(2025, 4, 1) + dt.timedelta(days=rng.randrange(90))
            village = {
                "province": province.name,
                "district": district,
                "commune": c.name,
                "village": v,
                "households": households,
                "forms_out": forms_out,
                "forms_back": forms_back,
            }
            conclusions.row(
                {
                    **village,
                    "meeting_date": f"{meeting.day:02d}/{meeting.month:02d}/{meeting.year}"
                    if concluded
                    else "",
                    "conclusion": ("Có thông tin" if has_info else "Không có thông tin") if concluded else "",
                }
            )
            truth.write(
                "village_coverage",
                {**village, "coverage": f"{forms_back / households:.4f}", "concluded": concluded},
            )
        forms.close()
    conclusions.close()


def _slug(text: str) -> str:
    return names.strip_diacritics(text).lower().replace(" ", "_")
