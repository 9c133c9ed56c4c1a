"""Every HTML page of OUT_DIR: jinja2 templates with autoescaping, one layout, safe file names.

Text from the inbox (names, communes, artefacts, ids) reaches these pages; jinja2 escapes every
value unless a template says otherwise, so a payload in a commune name stays text. Links and file
names are built only through `safe_name`: a remains id `javascript:alert(1)` or `../../x` becomes
a plain file name inside its folder, never a URL scheme or a path out of OUT_DIR.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import metadata
from pathlib import Path

import jinja2
from unidecode import unidecode

from lietsi import reasons
from lietsi.ops import formats
from lietsi.ops.export import write_atomic

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
_LINK = re.compile(r"(?:\.\./)*(?:[A-Za-z0-9_-][A-Za-z0-9._-]*/)*[A-Za-z0-9_-][A-Za-z0-9._-]*(?:#[\w-]+)?")


def safe_name(identifier: object) -> str:
    """The one way an id or a name becomes a file name: `[A-Za-z0-9_-]`, at most 89 characters.

    An id that is already such a name is kept as it is (`HC-000123`); any other is transliterated
    and suffixed with a hash of the original text, so that two different ids never share a file
    (`Mỹ Đức` → `my-duc-3f2a…`, `../../x` → `x-…`, `javascript:alert(1)` → `javascript-alert-1-…`).
    """
    text = "" if identifier is None else str(identifier)
    if _SAFE.fullmatch(text):
        return text
    slug = re.sub(r"[^a-z0-9]+", "-", unidecode(text).lower()).strip("-")[:70] or "x"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}"


def link(path: str) -> str:
    """A relative link made of safe names, or an error: no scheme, no absolute path, no query."""
    if not _LINK.fullmatch(path):
        raise ValueError(f"refusing to link {path!r}: not a relative path of safe names")
    return path


def contained(root: Path, path: Path) -> Path:
    """`path`, after checking that it resolves inside `root` (never written otherwise)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ValueError(f"refusing to write {path}: outside {root}")
    return path


def write_page(root: Path, relative: str, text: str) -> Path:
    """Write a page at `root/relative` (a link of safe names), readable by everyone (0644)."""
    return write_atomic(contained(root, root / link(relative)), text.encode("utf-8"))


@cache
def code_version() -> str:
    """The installed package version (the footer names it, so a page can be traced to its code)."""
    try:
        return metadata.version("lietsi")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Footer:
    """What every page says it comes from: province, run, date and code version."""

    province: str | None
    run_id: str | None
    generated_at: datetime = field(default_factory=datetime.now)
    version: str = field(default_factory=code_version)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lietsi.ops", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        number=formats.number,
        percent=formats.percent,
        money=formats.money,
        day=formats.day,
        timestamp=formats.timestamp,
        probability=formats.probability,
        ratio=formats.ratio,
        value=formats.value,
        link=link,
        vi=lambda label: str(label).split(" (", 1)[0],
        en=lambda label: str(label).split(" (", 1)[1].rstrip(")") if " (" in str(label) else "",
        safe_name=safe_name,
        reasons=reasons.lines,
    )
    return env


def render(template: str, footer: Footer, root: str = "", **values: object) -> str:
    """Render `lietsi/templates/<template>`; `root` is the way back to OUT_DIR (`../`) for links."""
    return environment().get_template(template).render(footer=footer, root=root, **values)
