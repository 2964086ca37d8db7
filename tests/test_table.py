"""The one table formatter: columns line up in terminal cells, Japanese text included."""

from __future__ import annotations

from hyoka.cli import main
from hyoka.results.table import display_width, format_table, results_table


def test_columns_line_up_with_full_width_text() -> None:
    text = format_table(("task", "value"), [("日本語タスク", "0.5"), ("en", "12.25")], align="lr")
    lines = text.splitlines()
    assert lines[1] == "------------  -----"
    assert lines[2] == "日本語タスク    0.5" and lines[3] == "en            12.25"
    assert {display_width(line) for line in lines} == {19}


def test_results_table_and_tasks_listing_use_it(capsys) -> None:  # type: ignore[no-untyped-def]
    table = results_table({"tasks": {"t": {"metrics": {"acc": {"value": 0.5, "stderr": None, "n": 2}}, "errors": 1}}})
    assert table.splitlines() == [
        "task  metric   value  ± stderr  n  errors",
        "----  ------  ------  --------  -  ------",
        "t     acc     0.5000         -  2       1",
    ]
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "lang", "formulation", "docs", "groups"]
    demo = next(line for line in lines if line.startswith("demo_ja "))
    assert demo.index(" ja ") + 1 == lines[0].index("lang") and not demo.endswith(" ")
