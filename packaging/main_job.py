"""The README's main job: assemble the default bundle, then run wan2.2-turbo on it.

Until the HTTP server lands (issue 4) the main job reads a sample document with the
default bundle through the same CLI a user runs; then it will start the server.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "packaging"))

import ocr_bundle  # noqa: E402


def sample_document(path: Path) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (900, 260), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=34)
    for row, line in enumerate(["NORTHWIND HARDWARE", "Invoice INV-20417", "Total due: 42.50 EUR"]):
        draw.text((30, 25 + row * 75), line, fill="black", font=font)
    image.save(path)
    return path


def main(argv: list[str]) -> int:
    bundle = ocr_bundle.assemble_ocr_bundle(REPO / "build" / "bundles" / "ocr")
    print(f"[main] default bundle ready: {bundle}", flush=True)
    images = argv or [str(sample_document(Path(tempfile.mkdtemp()) / "invoice.png"))]
    command = [sys.executable, "-m", "launcher.cli", "run", "--model", str(bundle), "--task", "read", *images]
    print("[main] " + " ".join(command[2:]), flush=True)
    return subprocess.call(command, cwd=REPO)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
