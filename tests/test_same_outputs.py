import polars as pl

from pipelines.same_outputs import differences


def _prints(rows: list[tuple[str, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["table_name", "rows", "checksum"], orient="row")


def test_identical_runs_have_no_difference():
    run = ("== rows ==\nregistry 10\n", _prints([("core.martyrs", 10, "ab")]))
    assert differences(run, run) == []


def test_a_changed_table_a_missing_table_and_a_changed_summary_line_are_all_reported():
    base = ("registry 10\nproposed 6\n", _prints([("core.martyrs", 10, "ab"), ("marts.x", 1, "cd")]))
    head = ("registry 10\nproposed 7\n", _prints([("core.martyrs", 10, "ff")]))
    found = differences(base, head)
    assert "-proposed 6" in found and "+proposed 7" in found
    assert any(line.startswith("table core.martyrs:") for line in found)
    assert any(line.startswith("table marts.x:") and "None rows (head)" in line for line in found)
