"""What an in-process run tells the shell: failed checks and skipped steps on stderr, and the exit
code (1 only when a step failed; a failed blocking check skips what depends on it and says so)."""

from __future__ import annotations

import sys

import dagster as dg


def report(result: dg.ExecuteInProcessResult) -> int:
    """Print the run's failed checks, skipped and failed steps; the exit code."""
    events = result.all_events
    for e in events:
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed:
            check = e.asset_check_evaluation_data
            kind = "warning" if check.severity == dg.AssetCheckSeverity.WARN else "check failed"
            print(f"{kind}: {check.asset_key.to_user_string()}:{check.check_name}", file=sys.stderr)
    for e in events:
        if e.event_type_value == "STEP_SKIPPED":
            print(f"skipped (upstream check failed): {e.step_key}", file=sys.stderr)
    failed = [e.step_key for e in events if e.event_type_value == "STEP_FAILURE"]
    for step in failed:
        print(f"step failed: {step}", file=sys.stderr)
    return 1 if failed else 0
