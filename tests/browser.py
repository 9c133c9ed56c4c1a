"""Headless Chromium for tests that must see a page as a person would (maps, HTML reports).

`render(path)` loads a local file with networking disabled and returns the DOM after scripts ran;
`screenshot(path, out)` saves a PNG into `test-artifacts/` for the CI artefacts. Tests call
`require_chromium()` first: it skips them, with the reason, only when Chromium is not installed
(`make browser` installs it).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("headless Chromium is not installed (run `make browser` or apt-get install chromium)")
    return path


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    binary = require_chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--mute-audio",
            f"--user-data-dir={profile}",
            *args,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def render(page: Path, *, budget_ms: int = 5000, timeout: float = 60.0) -> str:
    """The page's DOM after its scripts ran (virtual time lets timers and layout settle)."""
    return render_with_console(page, budget_ms=budget_ms, timeout=timeout)[0]


_CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\] (.*)$", re.M)


def render_with_console(page: Path, *, budget_ms: int = 5000, timeout: float = 60.0) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran, and every console message (errors, uncaught exceptions,
    failed loads) Chromium logged while loading it."""
    result = _run(
        [
            "--enable-logging=stderr",
            "--v=0",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        timeout,
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout, _CONSOLE.findall(result.stderr)


_HARNESS = """<!DOCTYPE html><html><body><pre id="results"></pre><script>
const pages = %s;
const results = [];
function next(i) {
  if (i >= pages.length) {
    document.getElementById("results").textContent = JSON.stringify(results);
    return;
  }
  const frame = document.createElement("iframe");
  frame.onload = () => setTimeout(() => {
    const r = {page: pages[i]};
    try {
      const root = frame.contentDocument.documentElement;
      r.dataset = Object.assign({}, root.dataset);
      r.html = root.outerHTML;
      r.links = Array.from(frame.contentDocument.querySelectorAll("a[href]"), a => a.getAttribute("href"));
    } catch (e) { r.error = String(e); }
    results.push(r); frame.remove(); next(i + 1);
  }, %d);
  frame.src = pages[i];
  document.body.appendChild(frame);
}
next(0);
</script></body></html>"""


def render_many(
    pages: list[Path], *, settle_ms: int = 1000, timeout: float = 600.0
) -> tuple[list[dict], list[str]]:
    """Open every page in one Chromium, one after the other in a frame, and return for each its
    root's `data-*` attributes, its DOM after its scripts ran and its links' `href`s, with every
    console message logged meanwhile. Much faster than a Chromium per page."""
    with tempfile.TemporaryDirectory(prefix="chromium-harness-") as folder:
        harness = Path(folder) / "harness.html"
        uris = [p.resolve().as_uri() for p in pages]
        harness.write_text(_HARNESS % (json.dumps(uris), settle_ms), encoding="utf-8")
        budget = (settle_ms + 2000) * (len(pages) + 1)
        result = _run(
            [
                "--allow-file-access-from-files",
                "--enable-logging=stderr",
                "--v=0",
                f"--virtual-time-budget={budget}",
                "--dump-dom",
                harness.as_uri(),
            ],
            timeout,
        )
    found = re.search(r'<pre id="results">(.*?)</pre>', result.stdout, re.S)
    if result.returncode != 0 or not found:
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return json.loads(html.unescape(found.group(1))), _CONSOLE.findall(result.stderr)


def screenshot(
    page: Path,
    name: str,
    *,
    size: tuple[int, int] = (1200, 800),
    budget_ms: int = 5000,
    timeout: float = 60.0,
) -> Path:
    """A PNG of the page in `test-artifacts/<name>.png`."""
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    out.unlink(missing_ok=True)
    result = _run(
        [
            f"--virtual-time-budget={budget_ms}",
            f"--window-size={size[0]},{size[1]}",
            "--hide-scrollbars",
            f"--screenshot={out}",
            page.resolve().as_uri(),
        ],
        timeout,
    )
    if not out.exists():
        raise RuntimeError(f"chromium wrote no screenshot ({result.returncode}): {result.stderr[-2000:]}")
    return out


class _Collector(HTMLParser):
    def __init__(self, tag: str, css_class: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.tag, self.css_class = tag, css_class
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != self.tag:
            return
        attributes = dict(attrs)
        if self.css_class is None or self.css_class in (attributes.get("class") or "").split():
            self.found.append(attributes)

    handle_startendtag = handle_starttag


def elements(dom: str, tag: str, css_class: str | None = None) -> list[dict[str, str | None]]:
    """Attributes of every `tag` element (with `css_class`, if given) in a dumped DOM.

    Parsed as HTML, so text inside `<style>` and `<script>` (Leaflet's CSS names every class) is
    not mistaken for elements.
    """
    collector = _Collector(tag, css_class)
    collector.feed(dom)
    return collector.found
