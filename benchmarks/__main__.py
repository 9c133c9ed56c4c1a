"""Run every benchmark module's `main()` in turn; exit non-zero when any fails."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main() -> int:
    failed = []
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        run = getattr(module, "main", None)
        if run is None:
            continue
        print(f"== benchmarks.{info.name}", flush=True)
        if run() not in (0, None):
            failed.append(info.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
