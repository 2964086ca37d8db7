"""Radar chart of MT-Bench category scores, as PNG and SVG (matplotlib, Agg backend).

matplotlib is optional (`pip install 'hyoka[report]'`); without it the run still finishes
and says why there is no chart.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Mapping


def radar_chart(
    values: Mapping[str, float | None],
    stem: Path,
    *,
    title: str = "",
    max_value: float = 10.0,
    failed: Mapping[str, int] | None = None,
) -> list[Path]:
    """Write `stem`.png and `stem`.svg; a category without a score is drawn at 0 and
    labelled "n/a", and failed judgments are shown in its label. Returns the files."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: works on servers and in CI
        import matplotlib.pyplot as plt
    except ImportError:
        print("hyoka: no radar chart: matplotlib is not installed (pip install 'hyoka[report]')", file=sys.stderr)
        return []
    labels = list(values)
    if not labels:
        return []
    failed = failed or {}
    angles = [2 * math.pi * i / len(labels) for i in range(len(labels))]
    points = [values[c] if values[c] is not None and not math.isnan(values[c]) else 0.0 for c in labels]  # type: ignore[arg-type]
    tick_labels = []
    for c in labels:
        shown = "n/a" if values[c] is None else f"{values[c]:.2f}"
        extra = f", {failed[c]} failed" if failed.get(c) else ""
        tick_labels.append(f"{c}\n({shown}{extra})")

    fig = plt.figure(figsize=(6.4, 6.4))
    try:
        ax = fig.add_subplot(111, polar=True)
        ax.plot(angles + angles[:1], points + points[:1], linewidth=1.8, color="#1f77b4")
        ax.fill(angles + angles[:1], points + points[:1], alpha=0.25, color="#1f77b4")
        ax.set_xticks(angles)
        ax.set_xticklabels(tick_labels, fontsize=8)
        ax.set_ylim(0, max_value)
        ax.set_title(title, fontsize=10, pad=18)
        fig.tight_layout()
        stem.parent.mkdir(parents=True, exist_ok=True)
        written = []
        for suffix in (".png", ".svg"):
            path = stem.with_suffix(suffix)
            # write beside, then rename: a killed run never leaves half a chart
            tmp = path.with_name(f".{path.name}.tmp{suffix}")
            fig.savefig(tmp, dpi=120)
            tmp.replace(path)
            written.append(path)
        return written
    finally:
        plt.close(fig)
