"""A whole country's national exports, written directly in the export format, for the scale benchmark.

At 100% (`fraction=1.0`): 1.2 million martyrs over the 63 real (pre-2025) provinces, 300,000
remains in the provinces' cemeteries and 500,000 donors' references — one folder per province,
exactly what `lietsi.ops.national_export` writes (`manifest.json` with `province_code` and each
file's SHA-256, `martyrs.csv`, `references.csv`, `remains.csv`; docs/national_export.md). No
province pipeline runs: a province run takes about a minute per 2,000 martyrs, a country would take
days. Everything is drawn with numpy and polars column operations; Python loops run only over the
~100 PhyloTree nodes and the 63 provinces.

The draws follow the province generator's rules, vectorised:
- **Haplotypes** are `lietsi.synth.haplotypes`' lineages: a haplogroup bin by the published
  Vietnamese shares, a PhyloTree 17 node within it, then the node's bare motif (30%), one of its
  common one-step relatives (35%, Zipf-like) or a motif with one or two private mutations (35%),
  and the length variants. At a country's size the private draws make hundreds of thousands of
  distinct lineages while the common haplotypes are shared by thousands of unrelated families.
  What a lab reads for a person (`haplotypes.observed`: a C-stretch length change 6%, a point
  heteroplasmy 3%) and the range read (full control region, HV1, or HV1+HV2) are drawn per
  sample, as `lietsi.synth.lab` does.
- **Martyrs** live in communes drawn uniformly over the country's communes (so a province's share
  follows its number of communes); 6% are brothers of the previous martyr (same mother's line,
  same commune). Where they fell follows `places.death_place`: northern soldiers of 1955-1975
  mostly on the big southern battlefields (Quảng Trị, the Central Highlands, the South-East,
  Quảng Nam), from 1979 on the northern border; southern soldiers at home or nearby, from 1977
  often in Cambodia.
- **Remains** are martyrs whose grave is unidentified, recovered near where they fell (the same
  commune, else the district, else the province), and lie in that province's cemeteries; remains
  repatriated from Cambodia lie in the south-western border provinces. 8% are martyrs of no
  registry (their truth has no martyr). 16% of remains have no profile (result not back, failed).
- **References**: the families of martyrs whose grave is not identified give 1-3 donors each; the
  donor's export is the home province's.

Ground truth is written apart (`<out>/truth/`), never into the inbox: `national_remains.csv`
(`province_code, remains_id, martyr_province_code, martyr_id, line`) as the national generator's
`truth/national_remains.csv` (martyr empty when he is in no registry), and `references.csv`
(`province_code, sample_id, line`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
from vietnamadminunits.database import query

from lietsi.lab import mtdna
from lietsi.ops.national_export import NATIONAL_TABLES, write_national_export
from lietsi.synth import haplotypes, names, places
from lietsi.synth.lab import _CLASSIC
from lietsi.synth.martyrs import _AGE, DEATH_YEAR, GRAVE_STATUS, P_BROTHERS, P_FEMALE

# The country at 100%: martyrs in the registries, remains in the cemeteries, donors' references.
COUNTRY_MARTYRS = 1_200_000
COUNTRY_REMAINS = 300_000
COUNTRY_DONORS = 500_000
P_REMAINS_UNREGISTERED = 0.08
P_REMAINS_NO_PROFILE = 0.16  # 6% not back from the lab, 10% of old bone failing
DONORS_PER_FAMILY = ((1, 0.70), (2, 0.22), (3, 0.08))
# Ranges read (lietsi.synth.lab): remains (old bone) more often partial than a living donor's.
REGIONS = (haplotypes.CONTROL_REGION, haplotypes.HV1, _CLASSIC)
REMAINS_REGION_SHARES = (0.75, 0.10, 0.15)
DONOR_REGION_SHARES = (0.88, 0.05, 0.07)
P_LENGTH_CHANGE = 0.06
P_HETEROPLASMY = 0.03
# Provinces whose teams repatriate remains from Cambodia (the south-western border).
REPATRIATING = ("Tây Ninh", "An Giang", "Kiên Giang", "Long An", "Đồng Tháp", "Bình Phước")


@dataclass(frozen=True)
class CountrySize:
    martyrs: int
    remains: int
    donors: int

    @classmethod
    def of(cls, fraction: float) -> CountrySize:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction {fraction} outside (0, 1]")
        return cls(
            round(COUNTRY_MARTYRS * fraction),
            round(COUNTRY_REMAINS * fraction),
            round(COUNTRY_DONORS * fraction),
        )


# ---------------------------------------------------------------------------------------------
# Places


@cache
def communes() -> pl.DataFrame:
    """Every pre-2025 commune, sorted by province, district, commune (index = row number)."""
    rows = query(
        "SELECT provinceCode, provinceShort, districtCode, districtShort, districtType, wardCode, wardShort, "
        "wardType, wardLat, wardLon FROM admin_units_legacy WHERE wardShort IS NOT NULL "
        "ORDER BY provinceCode, districtCode, wardCode"
    )
    frame = pl.DataFrame(rows).select(
        pl.col("provinceCode").alias("province_code"),
        pl.col("provinceShort").alias("province"),
        pl.col("districtCode").alias("district_code"),
        pl.col("districtShort").alias("district"),
        pl.col("districtType").str.to_lowercase().alias("district_type"),
        pl.col("wardCode").alias("commune_code"),
        pl.col("wardShort").alias("commune"),
        pl.col("wardType").fill_null("Xã").str.to_lowercase().alias("commune_type"),
        pl.col("wardLat").cast(pl.Float64).alias("lat"),
        pl.col("wardLon").cast(pl.Float64).alias("lon"),
    )
    return frame.with_row_index("c").with_columns(
        p=pl.col("province_code").rank("dense").cast(pl.Int64) - 1,
        d=pl.col("district_code").rank("dense").cast(pl.Int64) - 1,
    )


@dataclass(frozen=True)
class _Spans:
    """Where each province's and district's communes start in `communes()` and how many there are."""

    start: np.ndarray
    count: np.ndarray

    def draw(self, rng: np.random.Generator, unit: np.ndarray) -> np.ndarray:
        return self.start[unit] + (rng.random(len(unit)) * self.count[unit]).astype(np.int64)


def _spans(key: str) -> _Spans:
    counts = communes().group_by(key).agg(start=pl.col("c").min(), n=pl.len()).sort(key)
    return _Spans(counts["start"].to_numpy().astype(np.int64), counts["n"].to_numpy().astype(np.int64))


def _province_index(names_: tuple[str, ...]) -> np.ndarray:
    p = communes().unique("province").select("province", "p")
    lookup = dict(zip(p["province"], p["p"], strict=True))
    return np.array([lookup[n] for n in names_], dtype=np.int64)


@cache
def _nearby() -> np.ndarray:
    """(province index, 5) → the five nearest provinces' indices (places.nearby_provinces)."""
    order = communes().unique("p").sort("p")["province"].to_list()
    return np.stack([_province_index(places.nearby_provinces(name)) for name in order])


# ---------------------------------------------------------------------------------------------
# Lineages and profiles


@dataclass(frozen=True)
class _Nodes:
    names: list[str]
    weight: np.ndarray  # probability of each node (bin share / nodes in the bin)
    pools: pl.DataFrame  # node, core (0..4), pos, ins, allele


@cache
def _nodes(seed: int) -> _Nodes:
    tree = haplotypes._tree()
    node_names: list[str] = []
    weights: list[float] = []
    total = sum(w for _, w in haplotypes.VIETNAM_HAPLOGROUP_SHARES)
    for bin_, share in haplotypes.VIETNAM_HAPLOGROUP_SHARES:
        nodes = [n for n in haplotypes.BIN_NODES[bin_] if n in tree]
        node_names += nodes
        weights += [share / total / len(nodes)] * len(nodes)
    rows = [
        (i, core, pos, ins, allele)
        for i, node in enumerate(node_names)
        for core, variants in enumerate(haplotypes._pool(node, seed))
        for pos, ins, allele in variants
    ]
    pools = pl.DataFrame(
        rows,
        schema={"node": pl.Int32, "core": pl.Int32, "pos": pl.Int32, "ins": pl.Int32, "allele": pl.String},
        orient="row",
    )
    return _Nodes(node_names, np.array(weights), pools)


def _lineages(rng: np.random.Generator, n: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`n` lineages as `haplotypes.new_lineage` draws them: (line, node) and their variants
    (line, pos, ins, allele)."""
    nodes = _nodes(seed)
    node = rng.choice(len(nodes.names), size=n, p=nodes.weight).astype(np.int32)
    r = rng.random(n)
    pooled = np.minimum(np.floor(rng.exponential(1 / 0.9, n)).astype(np.int32) + 1, 4)
    core = np.where(r < 0.30, 0, np.where(r < 0.65, pooled, 0)).astype(np.int32)
    line = pl.DataFrame({"line": np.arange(n, dtype=np.int64), "node": node, "core": core})
    tokens = [line.join(nodes.pools, on=["node", "core"]).select("line", "pos", "ins", "allele")]
    # A third of lineages: the bare motif with one or two private mutations of their own.
    sites = haplotypes.private_sites()
    own = np.flatnonzero(r >= 0.65)
    first = rng.integers(0, len(sites), len(own))
    second = (first + 1 + rng.integers(0, len(sites) - 1, len(own))) % len(sites)
    two = rng.random(len(own)) < 1 / 3
    site_pos = np.array([p for p, _ in sites], dtype=np.int32)
    site_allele = np.array([a for _, a in sites])
    for pick, keep in ((first, np.ones(len(own), bool)), (second, two)):
        tokens.append(
            pl.DataFrame(
                {
                    "line": own[keep].astype(np.int64),
                    "pos": site_pos[pick[keep]],
                    "ins": np.zeros(int(keep.sum()), np.int32),
                    "allele": site_allele[pick[keep]],
                }
            )
        )
    # Length variants: 315.1C (97%), 309.1C (45%) or 309.1C 309.2C (15%), 16519C (55%).
    r309 = rng.random(n)
    for pos, ins, allele, mask in (
        (315, 1, "C", rng.random(n) < 0.97),
        (309, 1, "C", r309 < 0.60),
        (309, 2, "C", (r309 >= 0.45) & (r309 < 0.60)),
        (16519, 0, "C", rng.random(n) < 0.55),
    ):
        k = int(mask.sum())
        tokens.append(
            pl.DataFrame(
                {
                    "line": np.flatnonzero(mask).astype(np.int64),
                    "pos": np.full(k, pos, np.int32),
                    "ins": np.full(k, ins, np.int32),
                    "allele": np.full(k, allele),
                }
            )
        )
    variants = pl.concat(tokens).unique(["line", "pos", "ins"], keep="last", maintain_order=True)
    return line.select("line", "node"), variants


_HETEROPLASMY = pl.DataFrame(
    {
        "het_pos": [p for p, _ in haplotypes._HETEROPLASMY_SITES],
        "het_base": [b for _, b in haplotypes._HETEROPLASMY_SITES],
    },
    schema={"het_pos": pl.Int32, "het_base": pl.String},
).with_row_index("het")
_IUPAC = pl.DataFrame(
    [(a, b, code) for pair, code in haplotypes._IUPAC.items() for a in pair for b in pair if a != b],
    schema={"present": pl.String, "het_base": pl.String, "code": pl.String},
    orient="row",
)


def _in_region(region: pl.Expr) -> pl.Expr:
    expr = pl.lit(False)
    for i, intervals in enumerate(REGIONS):
        inside = pl.lit(False)
        for lo, hi in intervals:
            inside = inside | pl.col("pos").is_between(lo, hi)
        expr = expr | ((region == i) & inside)
    return expr


def _profiles(rng: np.random.Generator, samples: pl.DataFrame, variants: pl.DataFrame) -> pl.DataFrame:
    """What the lab reads for each sample (`sample`, `line`, `region`): its lineage's variants with
    `haplotypes.observed`'s noise, within the region read → (sample, haplotype)."""
    n = samples.height
    het = rng.integers(0, _HETEROPLASMY.height, n)
    noise = samples.select(
        "sample",
        length_change=pl.Series(rng.random(n) < P_LENGTH_CHANGE),
        het=pl.Series(np.where(rng.random(n) < P_HETEROPLASMY, het, -1)).cast(pl.UInt32, strict=False),
    )
    rows = samples.select("sample", "line", "region").join(variants, on="line").drop("line")
    rows = rows.join(noise, on="sample")
    stretch = rows.group_by("sample").agg(
        has1=((pl.col("pos") == 309) & (pl.col("ins") == 1)).any(),
        has2=((pl.col("pos") == 309) & (pl.col("ins") == 2)).any(),
    )
    changed = noise.filter("length_change").join(stretch, on="sample", how="left").fill_null(False)
    added = changed.filter(~pl.col("has2")).select(
        "sample",
        pos=pl.lit(309, pl.Int32),
        ins=pl.when("has1").then(2).otherwise(1).cast(pl.Int32),
        allele=pl.lit("C"),
    )
    rows = rows.filter(~(pl.col("length_change") & (pl.col("pos") == 309) & (pl.col("ins") == 2))).select(
        "sample", "pos", "ins", "allele"
    )
    rows = pl.concat([rows, added])
    # Point heteroplasmy: the base present (the lineage's, else rCRS's) and the second base.
    ref = mtdna.rcrs()
    hets = (
        noise.filter(pl.col("het").is_not_null())
        .join(_HETEROPLASMY, on="het")
        .join(
            rows.filter(pl.col("ins") == 0).rename({"pos": "het_pos", "allele": "present"}).drop("ins"),
            on=["sample", "het_pos"],
            how="left",
        )
        .with_columns(
            pl.col("present").fill_null(pl.col("het_pos").map_elements(lambda p: ref[p - 1], pl.String))
        )
        .join(_IUPAC, on=["present", "het_base"])
        .select("sample", pos="het_pos", ins=pl.lit(0, pl.Int32), allele="code")
    )
    rows = pl.concat([rows.join(hets.select("sample", "pos"), on=["sample", "pos"], how="anti"), hets])
    text = (
        rows.join(samples.select("sample", "region"), on="sample")
        .filter(_in_region(pl.col("region")))
        .sort("sample", "pos", "ins")
        .group_by("sample", maintain_order=True)
        .agg(
            haplotype=pl.concat_str(
                pl.col("pos").cast(pl.String),
                pl.when(pl.col("ins") > 0).then(pl.format(".{}", "ins")).otherwise(pl.lit("")),
                "allele",
            ).str.join(" ")
        )
    )
    return (
        samples.select("sample")
        .join(text, on="sample", how="left")
        .with_columns(pl.col("haplotype").fill_null(""))
    )


@cache
def _haplogroups(seed: int) -> pl.DataFrame:
    """(node, region) → the haplogroup a read of that region resolves (`haplotypes.resolvable`)."""
    nodes = _nodes(seed).names
    return pl.DataFrame(
        [
            (i, r, haplotypes.resolvable(node, region))
            for i, node in enumerate(nodes)
            for r, region in enumerate(REGIONS)
        ],
        schema={"node": pl.Int32, "region": pl.Int32, "haplogroup": pl.String},
        orient="row",
    )


_RANGE_TEXT = pl.DataFrame(
    {"region": list(range(len(REGIONS))), "range": [mtdna.format_range(r) for r in REGIONS]},
    schema={"region": pl.Int32, "range": pl.String},
)


# ---------------------------------------------------------------------------------------------
# Martyrs


def _pick_index(rng: np.random.Generator, picker: names.Picker, n: int) -> np.ndarray:
    """`n` draws of a `names.Picker` at once (the same cumulative weights, the same bisection)."""
    cum = np.array(picker.cum)
    return np.searchsorted(cum, rng.random(n) * cum[-1], side="right")


def _pick(rng: np.random.Generator, picker: names.Picker, n: int) -> np.ndarray:
    return np.array(picker.values)[_pick_index(rng, picker, n)]


def _names(rng: np.random.Generator, female: np.ndarray) -> pl.Series:
    n = len(female)
    surname = _pick(rng, names._SURNAME, n)
    middle = np.where(female, _pick(rng, names._MIDDLE["Nữ"], n), _pick(rng, names._MIDDLE["Nam"], n))
    male_given = np.array(names._MALE_GIVEN)
    female_given = np.array(names._FEMALE_GIVEN)
    given = np.where(
        female,
        female_given[rng.integers(0, len(female_given), n)],
        male_given[rng.integers(0, len(male_given), n)],
    )
    middle = np.where(~female & (middle == "Văn") & (rng.random(n) < 0.08), "", middle)
    return pl.DataFrame({"s": surname, "m": middle, "g": given}).select(
        pl.concat_str("s", "m", "g", separator=" ").str.replace_all("  ", " ")
    )["s"]


def _death_provinces(
    rng: np.random.Generator, home: np.ndarray, year: np.ndarray, south: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(province index where he fell, or -1 for Cambodia; Cambodian place index) — `places.death_place`."""
    n = len(home)
    far = _province_index(places._FAR_BATTLEFIELDS)
    border = _province_index(places._NORTH_BORDER)
    r = rng.random(n)
    wartime_north = ~south & (year >= 1955) & (year <= 1975)
    r = np.where(wartime_north, np.where(r < 0.8, 0.8, 0.0), r)
    nearby = _nearby()[home, rng.integers(0, 5, n)]
    i = rng.integers(0, len(far), n)
    far_pick = np.where(far[i] == home, far[(i + 1) % len(far)], far[i])
    where = np.where(r < 0.45, home, np.where(r < 0.8, nearby, far_pick))
    north_border = (year >= 1979) & ~south & (rng.random(n) < 0.4)
    where = np.where(north_border, border[rng.integers(0, len(border), n)], where)
    cambodia = (year >= 1977) & south & (rng.random(n) < 0.55)
    abroad = rng.integers(0, len(places.CAMBODIAN_PLACES), n)
    return np.where(cambodia, -1, where), np.where(cambodia, abroad, -1)


def _martyrs(rng: np.random.Generator, n: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`n` martyrs (index `m`) with their line, home commune, death, grave; and the lines' variants."""
    c = communes()
    brother = rng.random(n) < P_BROTHERS
    brother[0] = False
    line = np.cumsum(~brother) - 1
    n_lines = int(line[-1]) + 1
    home_commune = rng.integers(0, c.height, n_lines)[line]
    lines, variants = _lineages(rng, n_lines, seed)
    year = _pick(rng, DEATH_YEAR, n).astype(np.int32)
    age = _pick(rng, _AGE, n).astype(np.int32)
    female = rng.random(n) < P_FEMALE
    home_p = c["p"].to_numpy()[home_commune]
    south = c["province_code"].cast(pl.Int32).to_numpy()[home_commune] >= 45
    death_p, abroad = _death_provinces(rng, home_p, year, south)
    death_commune = np.where(death_p >= 0, _spans("p").draw(rng, np.maximum(death_p, 0)), -1)
    day = rng.integers(0, 365, n)
    precision = rng.choice(3, size=n, p=(0.6, 0.25, 0.15))
    grave = _pick_index(rng, GRAVE_STATUS, n)
    frame = pl.DataFrame(
        {
            "m": np.arange(n, dtype=np.int64),
            "line": line.astype(np.int64),
            "home": home_commune,
            "year": year,
            "age": age,
            "female": female,
            "death_commune": death_commune,
            "abroad": abroad,
            "day": day,
            "precision": precision,
            "grave": grave,
            "unit_draw": rng.random(n),
            "unit_num": rng.integers(0, 1_000_000, n),
            "text_draw": rng.random(n),
        }
    ).with_columns(full_name=_names(rng, female))
    return frame.join(lines, on="line").sort("m"), variants


def _hex_ids(prefix: str, index: np.ndarray, salt: int) -> list[str]:
    """Distinct pseudo-random ids (an odd multiplier is a bijection modulo 2⁴⁸)."""
    scrambled = (index.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15 | 1) + np.uint64(salt)) & np.uint64(
        (1 << 48) - 1
    )
    return [f"{prefix}{x:012x}" for x in scrambled.tolist()]


_PRECISION = pl.Series(["day", "month", "year"])


def _date(year: str, day: str, precision: str) -> pl.Expr:
    date = pl.date(pl.col(year), 1, 1) + pl.duration(days=pl.col(day))
    return (
        pl.when(pl.col(precision) == 0)
        .then(date)
        .when(pl.col(precision) == 1)
        .then(date.dt.truncate("1mo"))
        .otherwise(pl.date(pl.col(year), 1, 1))
    )


def _place_text(prefix: str, level: pl.Expr) -> pl.Expr:
    """A place as records write it, at `level` 0 commune, 1 district, 2 province."""
    commune = pl.concat_str(pl.col(f"{prefix}commune_type"), pl.lit(" "), pl.col(f"{prefix}commune"))
    district = pl.concat_str(pl.col(f"{prefix}district_type"), pl.lit(" "), pl.col(f"{prefix}district"))
    province = pl.concat_str(pl.lit("tỉnh "), pl.col(f"{prefix}province"))
    return (
        pl.when(level == 0)
        .then(pl.concat_str(commune, district, province, separator=", "))
        .when(level == 1)
        .then(pl.concat_str(district, province, separator=", "))
        .otherwise(pl.col(f"{prefix}province"))
    )


def _with_place(frame: pl.DataFrame, column: str, prefix: str) -> pl.DataFrame:
    c = communes().select(pl.all().name.prefix(prefix))
    return frame.join(c, left_on=column, right_on=f"{prefix}c", how="left")


def martyrs_export(martyrs: pl.DataFrame) -> pl.DataFrame:
    """The martyrs' rows of `martyrs.csv` (with `province_code` to split them by, and `m`)."""
    frame = _with_place(_with_place(martyrs, "home", "h_"), "death_commune", "d_")
    cambodia = pl.Series(places.CAMBODIAN_PLACES)
    death_place = (
        pl.when(pl.col("death_commune") < 0)
        .then(
            pl.when(pl.col("text_draw") < 0.5)
            .then(pl.lit("Chiến trường Campuchia"))
            .otherwise(
                pl.format(
                    "Tỉnh {}, Campuchia", pl.col("abroad").map_elements(lambda i: cambodia[i], pl.String)
                )
            )
        )
        .when(pl.col("text_draw") < 0.8)
        .then(_place_text("d_", (pl.col("text_draw") * 3.75).floor()))
        .otherwise(pl.format("Mặt trận {}", pl.col("d_province")))
    )
    main_force = pl.format(
        "Đại đội {}, Tiểu đoàn {}, Trung đoàn {}",
        pl.col("unit_num") % 4 + 1,
        pl.col("unit_num") // 4 % 3 + 1,
        pl.col("unit_num") // 12 % 30 + 1,
    )
    unit = (
        pl.when((pl.col("death_commune") == pl.col("home")) & (pl.col("unit_draw") < 0.5))
        .then(pl.format("Du kích xã {}", pl.col("h_commune")))
        .when(pl.col("unit_draw") < 0.25)
        .then(pl.format("Huyện đội {}", pl.col("h_district")))
        .when(pl.col("unit_draw") < 0.5)
        .then(pl.format("Tiểu đoàn {}", pl.col("unit_num") % 600 + 200))
        .otherwise(main_force)
    )
    cemetery = (
        pl.when((pl.col("grave") == 0) & pl.col("d_province").is_not_null())
        .then(
            pl.when(pl.col("unit_draw") < 0.45)
            .then(pl.format("Nghĩa trang liệt sĩ tỉnh {}", pl.col("d_province")))
            .otherwise(pl.format("Nghĩa trang liệt sĩ {}", pl.col("d_district")))
        )
        .otherwise(pl.lit(None, pl.String))
    )
    return frame.select(
        pl.col("h_province_code").alias("province_code"),
        "m",
        "martyr_id",
        "full_name",
        sex=pl.when("female").then(pl.lit("Nữ")).otherwise(pl.lit("Nam")),
        birth_year=pl.col("year") - pl.col("age"),
        hometown_commune_code="h_commune_code",
        hometown_district_code="h_district_code",
        hometown_province_code="h_province_code",
        hometown_province="h_province",
        unit=unit,
        death_date=_date("year", "day", "precision"),
        death_date_precision=_PRECISION.gather(frame["precision"]),
        death_place=death_place,
        cemetery=cemetery,
        grave_status=pl.Series(GRAVE_STATUS.values).gather(frame["grave"]),
        hometown_commune="h_commune",
        hometown_district="h_district",
        aliases=pl.lit(None, pl.String),
    )


# ---------------------------------------------------------------------------------------------
# Remains and references


def _remains(
    rng: np.random.Generator, martyrs: pl.DataFrame, ghosts: pl.DataFrame, size: CountrySize
) -> pl.DataFrame:
    """Remains (index `r`) of martyrs whose grave is unidentified, and of martyrs of no registry."""
    n_ghosts = round(size.remains * P_REMAINS_UNREGISTERED)
    unidentified = martyrs.filter(pl.col("grave") == 1)
    chosen = unidentified.sample(
        min(size.remains - n_ghosts, unidentified.height), seed=int(rng.integers(1 << 31))
    )
    whose = pl.concat(
        [
            chosen.select(
                "m", "line", "node", "death_commune", "abroad", "year", "age", "female", "full_name"
            ),
            ghosts.head(n_ghosts).select(
                pl.lit(None, pl.Int64).alias("m"),
                "line",
                "node",
                "death_commune",
                "abroad",
                "year",
                "age",
                "female",
                "full_name",
            ),
        ]
    )
    n = whose.height
    death = whose["death_commune"].to_numpy()
    c = communes()
    district = np.where(death >= 0, c["d"].to_numpy()[np.maximum(death, 0)], 0)
    province = np.where(death >= 0, c["p"].to_numpy()[np.maximum(death, 0)], 0)
    r = rng.random(n)
    found = np.where(
        r < 0.72, death, np.where(r < 0.92, _spans("d").draw(rng, district), _spans("p").draw(rng, province))
    )
    repatriating = _province_index(REPATRIATING)
    abroad = whose["abroad"].to_numpy()
    abroad = np.where(
        (abroad >= 0) & (rng.random(n) >= 0.85), rng.integers(0, len(places.CAMBODIAN_PLACES), n), abroad
    )
    cemetery_p = np.where(
        death >= 0,
        c["p"].to_numpy()[np.maximum(found, 0)],
        repatriating[rng.integers(0, len(repatriating), n)],
    )
    found = np.where(death >= 0, found, -1)
    return whose.with_columns(
        r=pl.Series(np.arange(n, dtype=np.int64)),
        found=pl.Series(found),
        abroad=pl.Series(abroad),
        cemetery_p=pl.Series(cemetery_p),
        recovery_year=pl.Series(rng.integers(1976, 2021, n)),
        recovery_day=pl.Series(rng.integers(0, 365, n)),
        precision=pl.Series(rng.choice(3, size=n, p=(0.3, 0.4, 0.3))),
        region=pl.Series(rng.choice(3, size=n, p=REMAINS_REGION_SHARES)).cast(pl.Int32),
        profiled=pl.Series(rng.random(n) >= P_REMAINS_NO_PROFILE),
        draw=pl.Series(rng.random(n)),
        age_shift=pl.Series(rng.integers(-4, 3, n)),
    )


_ARTEFACTS = pl.Series(
    ["lược nhôm", "cúc áo", "dép cao su", "võng dù", "bi đông", "ca nhôm", "bát sắt", "khuy áo quân phục"]
)


def remains_export(remains: pl.DataFrame, profiles: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The rows of `remains.csv` (with `province_code`), and the truth columns `martyr`, `line`."""
    p = communes().unique("p").sort("p").select(pl.col("p").alias("cemetery_p"), "province_code", "province")
    frame = (
        _with_place(remains, "found", "f_")
        .join(p, on="cemetery_p")
        .join(profiles.rename({"sample": "r"}), on="r", how="left")
        .join(_haplogroups(seed), on=["node", "region"], how="left")
        .join(_RANGE_TEXT, on="region")
    )
    frame = frame.sort("r").with_columns(
        k=pl.int_range(1, pl.len() + 1).over("province_code"),
    )
    cambodia = pl.Series(places.CAMBODIAN_PLACES)
    recovery_place = (
        pl.when(pl.col("found") < 0)
        .then(
            pl.format("Tỉnh {}, Campuchia", pl.col("abroad").map_elements(lambda i: cambodia[i], pl.String))
        )
        .otherwise(_place_text("f_", (pl.col("draw") < 0.2).cast(pl.Int32)))
    )
    artefacts = (
        pl.when(pl.col("draw") < 0.12)
        .then(pl.format("bi đông khắc tên {}", pl.col("full_name")))
        .when(pl.col("draw") < 0.6)
        .then(pl.col("artefact"))
        .otherwise(pl.lit(None, pl.String))
    )
    frame = frame.with_columns(
        artefact=pl.Series(_ARTEFACTS.gather((frame["draw"] * 1000).cast(pl.Int64) % len(_ARTEFACTS)))
    )
    profiled = pl.col("profiled")
    age = pl.col("age") + pl.col("age_shift")
    return frame.select(
        "province_code",
        remains_id=pl.format("HC{}-{}", "province_code", pl.col("k").cast(pl.String).str.zfill(6)),
        sample_id=pl.when(profiled).then(pl.format("MHC{}", pl.col("k").cast(pl.String).str.zfill(6))),
        range=pl.when(profiled).then("range"),
        haplotype=pl.when(profiled).then("haplotype"),
        haplogroup=pl.when(profiled).then("haplogroup"),
        cemetery=pl.when(pl.col("draw") < 0.45)
        .then(pl.format("Nghĩa trang liệt sĩ tỉnh {}", "province"))
        .otherwise(pl.format("Nghĩa trang liệt sĩ {}", pl.coalesce("f_district", "province"))),
        recovery_date=_date("recovery_year", "recovery_day", "precision"),
        recovery_date_precision=_PRECISION.gather(frame["precision"]),
        recovery_place=recovery_place,
        lat=pl.when(pl.col("draw") > 0.7).then(pl.col("f_lat").round(5)),
        lon=pl.when(pl.col("draw") > 0.7).then(pl.col("f_lon").round(5)),
        artefacts=artefacts,
        est_sex=pl.when(pl.col("draw") < 0.5).then(
            pl.when("female").then(pl.lit("Nữ")).otherwise(pl.lit("Nam"))
        ),
        est_age=pl.when(pl.col("draw") < 0.8).then(pl.format("{}-{}", age, age + 8)),
        # The country's first national run: no council has decided on any of these remains yet.
        council_confirmed_martyr_id=pl.lit(None, pl.String),
        council_rejected_martyr_ids=pl.lit(None, pl.String),
        martyr=pl.col("m"),
        line=pl.col("line"),
    )


def _donors(rng: np.random.Generator, martyrs: pl.DataFrame, size: CountrySize) -> pl.DataFrame:
    """Donors (index `d`): 1-3 per family whose martyr's grave is not identified."""
    counts, shares = zip(*DONORS_PER_FAMILY, strict=True)
    mean = float(np.dot(counts, shares))
    families = (
        martyrs.group_by("line")
        .agg(
            home=pl.col("home").first(),
            node=pl.col("node").first(),
            martyrs=pl.col("martyr_id").sort_by("m"),
            missing=(pl.col("grave") > 0).any(),
        )
        .sort("line")
    )
    eligible = families.filter("missing")
    wanted = min(round(size.donors / mean * 1.05), eligible.height)  # then cut to exactly `size.donors`
    chosen = eligible.sample(wanted, seed=int(rng.integers(1 << 31))).sort("line")
    per = rng.choice(counts, size=chosen.height, p=shares)
    donors = (
        chosen.with_columns(n=pl.Series(per))
        .select(pl.all().repeat_by("n").explode())
        .drop("n")
        .head(size.donors)
    )
    n = donors.height
    return donors.with_columns(
        d=pl.Series(np.arange(n, dtype=np.int64)),
        region=pl.Series(rng.choice(3, size=n, p=DONOR_REGION_SHARES)).cast(pl.Int32),
    )


def references_export(donors: pl.DataFrame, profiles: pl.DataFrame, seed: int) -> pl.DataFrame:
    c = communes().select(pl.col("c").alias("home"), "province_code")
    frame = (
        donors.join(c, on="home")
        .join(profiles.rename({"sample": "d"}), on="d")
        .join(_haplogroups(seed), on=["node", "region"], how="left")
        .join(_RANGE_TEXT, on="region")
        .sort("d")
        .with_columns(k=pl.int_range(1, pl.len() + 1).over("province_code"))
    )
    return frame.select(
        "province_code",
        sample_id=pl.format("MTN{}", pl.col("k").cast(pl.String).str.zfill(6)),
        maternal_line_id=pl.format("ML-{}", pl.col("martyrs").list.first()),
        martyr_ids=pl.col("martyrs").list.join(";"),
        range="range",
        haplotype="haplotype",
        haplogroup="haplogroup",
        line="line",
    )


# ---------------------------------------------------------------------------------------------
# The country


@dataclass(frozen=True)
class Country:
    martyrs: pl.DataFrame  # martyrs.csv rows + province_code
    references: pl.DataFrame  # references.csv rows + province_code, line (truth)
    remains: pl.DataFrame  # remains.csv rows + province_code, martyr, line (truth)


def generate_country(fraction: float, seed: int = 7) -> Country:
    """The country at `fraction` of its size, as frames (see `write_country` for the files)."""
    size = CountrySize.of(fraction)
    rng = np.random.default_rng(seed)
    n_ghosts = round(size.remains * P_REMAINS_UNREGISTERED)
    everyone, variants = _martyrs(rng, size.martyrs + n_ghosts, seed)
    # The last martyrs are in no registry; their lines are their own (a brother is in no registry either).
    registered = everyone.filter(pl.col("m") < size.martyrs).with_columns(
        martyr_id=pl.Series(_hex_ids("LS-", np.arange(size.martyrs), seed))
    )
    ghosts = everyone.filter(
        (pl.col("m") >= size.martyrs) & ~pl.col("line").is_in(registered["line"].implode())
    )
    martyrs = martyrs_export(registered)
    remains = _remains(rng, registered, ghosts, size)
    donors = _donors(rng, registered, size)
    samples = pl.concat(
        [
            remains.select(pl.col("r").alias("sample"), "line", "region"),
            donors.select((pl.col("d") + remains.height).alias("sample"), "line", "region"),
        ]
    )
    profiles = _profiles(rng, samples, variants)
    remains_rows = remains_export(remains, profiles.filter(pl.col("sample") < remains.height), seed)
    donor_profiles = profiles.filter(pl.col("sample") >= remains.height).with_columns(
        pl.col("sample") - remains.height
    )
    references = references_export(donors, donor_profiles, seed)
    whose = martyrs.select(
        pl.col("m").alias("martyr"), pl.col("province_code").alias("martyr_province_code"), "martyr_id"
    )
    remains_rows = remains_rows.join(whose, on="martyr", how="left").drop("martyr")
    return Country(martyrs.drop("m"), references, remains_rows)


EXPORT_COLUMNS = {
    "martyrs": (
        "martyr_id",
        "full_name",
        "sex",
        "birth_year",
        "hometown_commune_code",
        "hometown_district_code",
        "hometown_province_code",
        "hometown_province",
        "unit",
        "death_date",
        "death_date_precision",
        "death_place",
        "cemetery",
        "grave_status",
        "hometown_commune",
        "hometown_district",
        "aliases",
    ),
    "references": ("sample_id", "maternal_line_id", "martyr_ids", "range", "haplotype", "haplogroup"),
    "remains": (
        "remains_id",
        "sample_id",
        "range",
        "haplotype",
        "haplogroup",
        "cemetery",
        "recovery_date",
        "recovery_date_precision",
        "recovery_place",
        "lat",
        "lon",
        "artefacts",
        "est_sex",
        "est_age",
        "council_confirmed_martyr_id",
        "council_rejected_martyr_ids",
    ),
}


def write_country(country: Country, out: Path) -> dict[str, int]:
    """`out/inbox/<province_code>/` (a national export per province, written by the province's own
    writer) and `out/truth/`; rows written."""
    names_by_code = dict(communes().unique("province_code").select("province_code", "province").iter_rows())
    frames = {"martyrs": country.martyrs, "references": country.references, "remains": country.remains}
    parts = {name: frame.partition_by("province_code", as_dict=True) for name, frame in frames.items()}
    for code in sorted({code for part in parts.values() for (code,) in part}):
        files = {}
        for name in NATIONAL_TABLES:
            part = parts[name].get((code,), frames[name].clear())
            columns = EXPORT_COLUMNS[name]
            files[f"export_national_{name}"] = part.select(columns).sort(columns[0], columns[1])
        write_national_export(out / "inbox" / code, files.__getitem__, names_by_code[code])
    truth = out / "truth"
    truth.mkdir(parents=True, exist_ok=True)
    country.remains.select(
        "province_code", "remains_id", "martyr_province_code", "martyr_id", "line"
    ).write_csv(truth / "national_remains.csv")
    country.references.select("province_code", "sample_id", "line").write_csv(truth / "references.csv")
    return {name: frame.height for name, frame in frames.items()}
