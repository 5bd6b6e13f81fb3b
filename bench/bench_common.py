"""What the benches share: where the reader bundle is, the median timer, the CPU line, the report.

Imported by the scripts in bench/ (run as `python bench/<name>.py`, so this folder is on
sys.path).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The built reader bundle, else the one the tests assemble.
BUNDLES = (REPO / "build" / "bundles" / "reader", REPO / ".cache" / "tests" / "bundles" / "reader")


def default_bundle() -> Path:
    return next((bundle for bundle in BUNDLES if bundle.exists()), BUNDLES[0])


def median_s(function, repeats: int, warm_up: bool = False) -> float:
    """Median seconds of `repeats` calls of `function` (after one untimed call with `warm_up`)."""
    if warm_up:
        function()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def cpu_line(hardware) -> str:
    """'CPU: <model>; usable cores N; flags a, b': what every figure is recorded with."""
    return f"CPU: {hardware.cpu_model}; usable cores {hardware.usable_cores}; flags {', '.join(sorted(hardware.isa))}"


def remember_pictures(adapter, size: int) -> None:
    """Set how many pictures the reader adapter's memos keep (OCR regions, detections,
    classifier labels; `runtime/ocr/memo.py`), emptying them: 0 makes every call do the work."""
    for memo in (adapter._ocr_memo, adapter._detections_memo, adapter._labels_memo):
        memo.size = size
        memo._entries.clear()


def report(text: str, out: Path | None) -> int:
    """Print the report and write it to `out` when given; the bench's exit status (0)."""
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return 0


@dataclass(frozen=True)
class Figure:
    """One headline figure of a comparison, for bench/run_all.py's table: what was measured,
    its value, and the issue's target (`at_most` / `at_least`) when it has one."""

    comparison: str  # e.g. "1. OCR vs rapidocr-onnxruntime"
    name: str
    value: float
    unit: str = ""
    at_most: float | None = None
    at_least: float | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.at_most is not None:
            return self.value <= self.at_most
        if self.at_least is not None:
            return self.value >= self.at_least
        return None

    def to_dict(self) -> dict:
        return {**asdict(self), "met": self.met}


def add_json_argument(parser) -> None:
    """`--json PATH`: where a bench writes its headline figures for bench/run_all.py."""
    parser.add_argument("--json", type=Path, default=None, help="also write the headline figures here (bench/run_all.py)")


def write_figures(figures: list[Figure], path: Path | None) -> None:
    """Write the bench's headline figures as JSON (`--json PATH`) for bench/run_all.py."""
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([f.to_dict() for f in figures], indent=1) + "\n", encoding="utf-8")


# Figures that rank a bundle's variants (runtime.placement.selection, rule 4): the reader
# bundle's build copies them into each variant's `measured` (packaging/reader_bundle.py).
MEASUREMENTS = REPO / "bench" / "results" / "variant_measurements.json"


def too_busy_to_record(load_before: float, cpu_count: int) -> str | None:
    """Why figures measured after this 1-minute load average must not be recorded, or None.
    The bench's own threads lift the load during the run, so only the load before counts."""
    if load_before > cpu_count - 1:
        return (f"Not recorded: the load average before the run ({load_before:.1f}) says other work was running on "
                "more than one core's worth, so the speeds are not this machine's. Rerun on a quieter machine.")
    return None


def masked_prefix() -> str:
    """'bench/isa_mask.py -- ' when this bench runs under bench/isa_mask.py (which sets
    WAN_ISA_MASK), else '': what a report's command line and a recorded figure's source start with."""
    return "bench/isa_mask.py -- " if os.environ.get("WAN_ISA_MASK") else ""


def figure_source(command: str, out: Path) -> str:
    """How a recorded figure was measured: the bench command (`masked_prefix` first) and the
    report it wrote."""
    prefix = masked_prefix()
    try:
        shown = Path(out).resolve().relative_to(REPO)
    except ValueError:
        shown = Path(out)
    return f"{prefix}{command} ({shown})"


def record_figures(component: str, entries: dict[str, dict], path: Path = MEASUREMENTS) -> str:
    """Merge figures into `path`: variant label -> one entry (with its int8 `kernels` family);
    a variant keeps one entry per family, so a rerun on the same family replaces it."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    figures = data.setdefault(component, {})
    kinds = sorted({entry["kernels"] for entry in entries.values()})
    for label, entry in entries.items():
        kept = [e for e in figures.get(label, []) if e["kernels"] != entry["kernels"]]
        figures[label] = sorted([*kept, entry], key=lambda e: e["kernels"])
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return f"recorded {component} figures for {', '.join(kinds)} int8 kernels in {path.name}"
