"""Generator configurations: the assumptions about a province that a model could be fitted to.

`demo` is the province every stage was built and tuned on. `borderland` and `homefront` change
the assumptions the matching model depends on (who lies in the register, how places of death are
written, how often artefacts name a man, how mtDNA lineages cluster, how carefully relatives'
names and addresses are written), so accuracy and calibration can be measured on data nothing
was fitted to. Every rate of `demo` is the generator's historical value: its output is
byte-identical to the generator before configurations existed (tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class GeneratorConfig:
    """The assumptions of one synthetic province (shares are probabilities, 0–1)."""

    name: str
    # Remains of other provinces' martyrs per own martyr in the register (0.6: 37.5% of the register).
    other_per_own: float = 0.6
    # How records write a place of death in Vietnam: shares of commune, district, province and
    # front level (sum 1). The front share is the "front-placed martyrs": no admin unit on record.
    death_levels: tuple[float, float, float, float] = (0.33, 0.22, 0.25, 0.20)
    # How often the place of death is filled in: in the registry's lists, on form-02 rows.
    p_death_place_registry: float = 0.85
    p_death_place_form: float = 0.7
    # Remains listed with artefacts; of those, something written on one; of inscriptions, a
    # comrade's name (soldiers swapped gear).
    p_artefacts: float = 0.4
    p_inscription: float = 0.32
    p_inscription_of_other: float = 0.12
    # Village-clustered haplotypes: the share of a province's maternal lines descending from one
    # of a few founder lines of their commune (same haplotype, unrelated families), so a
    # haplotype common in one commune is rare in the province's frequency database.
    p_commune_founder: float = 0.0
    founders_per_commune: int = 3
    # Spelling variation in relatives' names and addresses on the survey forms: the per-cell
    # dirt rates of relatives' names are multiplied by `relative_name_dirt`; with
    # `p_name_variant` a relative's name is written another way (middle name left out, the
    # Northern spelling of the surname); with `p_address_variant`, an address is written another
    # way (village as `Ấp III`, `ấp 03`, `Ấp Ba`; no diacritics; unit words left out; lower case).
    relative_name_dirt: float = 1.0
    p_name_variant: float = 0.0
    p_address_variant: float = 0.0

    def __post_init__(self) -> None:
        if abs(sum(self.death_levels) - 1.0) > 1e-9 or min(self.death_levels) < 0:
            raise ValueError(f"{self.name}: death_levels must be shares summing to 1: {self.death_levels}")

    @property
    def death_level_cuts(self) -> tuple[float, float, float]:
        """Cumulative commune / district / province shares (the rest is front)."""
        a, b, c, _ = accumulate(self.death_levels)
        return (a, b, c)

    @property
    def other_share(self) -> float:
        """Expected share of the register's remains that are other provinces' martyrs."""
        return self.other_per_own / (1 + self.other_per_own)


DEMO = GeneratorConfig(name="demo")

CONFIGS: dict[str, GeneratorConfig] = {
    "demo": DEMO,
    # A border province whose cemeteries hold many soldiers of other provinces (70% of the
    # register), whose registry rarely writes a place of death finer than a province and often
    # only a front, and whose remains rarely carry a readable name.
    "borderland": GeneratorConfig(
        name="borderland",
        other_per_own=7 / 3,
        death_levels=(0.15, 0.15, 0.30, 0.40),
        p_death_place_registry=0.6,
        p_death_place_form=0.4,
        p_artefacts=0.25,
        p_inscription=0.2,
        p_inscription_of_other=0.3,
    ),
    # A province whose own martyrs fill the register (20% from elsewhere), with places of death
    # written to the commune, artefacts often inscribed, maternal lines clustered by commune
    # (founder lines), and relatives' names and addresses written carelessly.
    "homefront": GeneratorConfig(
        name="homefront",
        other_per_own=0.25,
        death_levels=(0.55, 0.20, 0.15, 0.10),
        p_death_place_registry=0.95,
        p_death_place_form=0.9,
        p_artefacts=0.6,
        p_inscription=0.45,
        p_inscription_of_other=0.05,
        p_commune_founder=0.4,
        relative_name_dirt=3.0,
        p_name_variant=0.08,
        p_address_variant=0.35,
    ),
}


def config(name: str) -> GeneratorConfig:
    try:
        return CONFIGS[name]
    except KeyError:
        known = ", ".join(CONFIGS)
        raise ValueError(f"unknown generator configuration {name!r}: use one of {known}") from None
