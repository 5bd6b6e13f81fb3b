"""The scripts in examples/ (issue 14), run as a user runs them, on images drawn here:
receipts to a CSV with evidence boxes, photos captioned and searched by text (both with the
default reader bundle in-process), and the `openai` client against a running server."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "browser"))

from browser_support import Server  # noqa: E402  (a real `serve` process)

pytestmark = pytest.mark.slow

RECEIPTS = {  # file -> lines drawn, and what the CSV must say
    "bakery.png": (["CORNER BAKERY LTD", "12 Market Street", "Date: 2026-02-03", "Bread 2 x 3.20",
                    "Coffee 1 x 2.80", "Total: 9.20"], {"date": "2026-02-03", "vendor": "CORNER", "total": "9.20"}),
    "pharmacy.png": (["RIVERSIDE PHARMACY", "Date: 2026-01-17", "Vitamins 12.40", "Plasters 3.10",
                      "Total due: 15.50 EUR"], {"date": "2026-01-17", "vendor": "RIVERSIDE", "total": "15.50"}),
    "cafe.png": (["GREEN LEAF CAFE", "Date: 2025-12-24", "Tea 2.50", "Cake 4.00", "TOTAL 6.50",
                  "CASH 10.00", "CHANGE 3.50"], {"date": "2025-12-24", "vendor": "GREEN", "total": "6.50"}),
}
SIGNS = {
    "pharmacy.png": ["RIVERSIDE PHARMACY", "medicines and vitamins"],
    "bakery.png": ["CORNER BAKERY", "fresh bread every morning"],
    "bikes.png": ["CITY BIKE REPAIR", "bicycles fixed while you wait"],
}
SEARCHES = {"where can I buy medicine": "pharmacy.png", "a loaf of bread": "bakery.png",
            "my bicycle has a flat tyre": "bikes.png"}


def _draw(path: Path, lines: list[str]) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (720, 80 + 75 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=30)
    for index, line in enumerate(lines):
        draw.text((40, 30 + index * 75), line, fill="black", font=font)
    image.save(path)
    return path


@pytest.fixture(scope="module")
def receipts(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("receipts")
    for name, (lines, _) in RECEIPTS.items():
        _draw(folder / name, lines)
    _draw(folder / "blank.png", [])  # nothing to read: every field must stay empty
    (folder / "notes.txt").write_text("not an image")
    return folder


def _run(*args, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_receipts_to_csv(reader_bundle, receipts, tmp_path):
    output = tmp_path / "receipts.csv"
    _run(REPO / "examples" / "receipts_to_csv.py", "--model", reader_bundle, receipts, output)
    with output.open(newline="", encoding="utf-8") as handle:
        rows = {row["file"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == sorted([*RECEIPTS, "blank.png"])
    for name, (lines, expected) in RECEIPTS.items():
        row = rows[name]
        assert row["date"] == expected["date"], row
        assert row["vendor"].startswith(expected["vendor"]), row
        assert row["total"].startswith(expected["total"]), row
        for field in ("date", "vendor", "total"):
            x0, y0, x1, y1 = map(float, row[f"{field}_box"].split())
            drawn = next(i for i, line in enumerate(lines) if expected[field].split()[0] in line.replace(" ", ""))
            assert 30 + drawn * 75 - 10 <= y0 < y1 <= 30 + drawn * 75 + 50 and x0 < x1, (field, row)  # the line's box
    assert all(value == "" for key, value in rows["blank.png"].items() if key != "file"), rows["blank.png"]


def test_photo_search(reader_bundle, tmp_path):
    for name, lines in SIGNS.items():
        _draw(tmp_path / name, lines)
    done = _run(REPO / "examples" / "photo_search.py", "--model", reader_bundle, "--json", "--top", "3",
                tmp_path, *SEARCHES)
    result = json.loads(done.stdout)
    assert sorted(result["captions"]) == sorted(SIGNS)
    for name, lines in SIGNS.items():
        assert lines[0].split()[1] in result["captions"][name].upper().replace(" ", ""), result["captions"]
    for query, best in SEARCHES.items():
        matches = result["searches"][query]
        assert [m["file"] for m in matches][0] == best, (query, matches)
        assert len(matches) == 3 and matches[0]["score"] > matches[1]["score"]


def test_openai_client_against_a_running_server(reader_bundle, receipts, tmp_path):
    server = Server(reader_bundle, tmp_path / "server.log")
    try:
        server.wait_ready()
        script = REPO / "examples" / "openai_client.py"
        streamed = _run(script, "--server", server.url, receipts, "What is the total?").stdout
        whole = _run(script, "--server", server.url, "--evidence", receipts, "What is the total?").stdout
    finally:
        server.stop()
    for name, (_, expected) in RECEIPTS.items():
        assert f"{name}: {expected['total']}" in streamed, streamed
        assert f"{name}: {expected['total']}" in whole, whole
    assert re.search(r"read from 'Total: ?9\.20' at x ", whole), whole  # the recognizer may drop the space
    assert "blank.png: " in streamed and "notes.txt" not in streamed
