"""Write the README's hostile-input table from the corpus the tests send (issue 12).

    python packaging/readme_hostile.py          # rewrite README.md between the markers
    python packaging/readme_hostile.py --check  # exit 1 if README.md is out of date

The table lies between `<!-- hostile:start -->` and `<!-- hostile:end -->`. Its rows come
from tests/http/hostile_cases.py, the table that tests/http/test_hostile_corpus.py sends
to the server and checks case by case, so a row can only say what the server does.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
REGENERATE = "python packaging/readme_hostile.py"


def _corpus():
    for folder in (REPO_ROOT, REPO_ROOT / "tests" / "http", REPO_ROOT / "packaging"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    import hostile_cases

    return hostile_cases


def render_table() -> str:
    return _corpus().render_table()


def update(text: str, table: str) -> str:
    """`text` with everything between the hostile-input markers replaced by `table`."""
    import readme_cli

    corpus = _corpus()
    return readme_cli.update(text, table, corpus.START, corpus.END)


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    wanted = update(text, render_table())
    if "--check" in argv:
        if wanted != text:
            print(f"README.md's hostile-input table is out of date; run: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    if wanted != text:
        README.write_text(wanted, encoding="utf-8")
        print("README.md: hostile-input table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
