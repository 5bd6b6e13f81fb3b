"""The Linux release runs on older Linux: glibc <= 2.31, proven inside Debian 11 (issue 15).

Reads the session's release build (conftest.py: `python3 build.py`'s release, frozen in the
cached Debian 11 tree) and starts it inside a bare `debootstrap --variant=minbase bullseye`
tree (cached beside the build's trees; no Python in it) with chroot, no network.
"""

from __future__ import annotations

import re
import sys

import pytest

import debian_tree
import elf_files
import portable_check
import release
import smoke

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the portable build is Linux-only")]

GLIBC_LIMIT = (2, 31)  # Debian 11 and Ubuntu 20.04
# glibc's own libraries and its dynamic loader: what every glibc system has.
GLIBC_LIBRARIES = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
                   "libresolv.so.2", "libcrypt.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_every_elf_file_needs_at_most_glibc_2_31(app):
    measured = elf_files.highest_glibc(app)
    assert measured is not None, "no ELF file in the release needs glibc: this is not a Linux build"
    floor, files = measured
    assert floor <= GLIBC_LIMIT, f"GLIBC_{'.'.join(map(str, floor))} needed by {files}"


def test_release_notes_state_the_measured_floor_and_the_base(release_build, app):
    notes = (release_build / release.NOTES_FILE).read_text()
    stated = notes.split("glibc ≥ ", 1)[1].split(":", 1)[0]
    assert _version(stated) == elf_files.highest_glibc(app)[0]
    assert "Built inside a Debian 11 (bullseye) tree, libc6 2.31-" in notes
    assert re.search(r"CPython 3\.1[0-9]\.[0-9]+, compiled there from Debian's python3\.1[0-9] ", notes), notes


def test_needs_nothing_from_the_system_but_glibc(app):
    taken = elf_files.system_libraries(app)
    assert taken, "the release's ELF files name no system library at all: the DT_NEEDED reading is broken"
    assert set(taken) <= GLIBC_LIBRARIES, {name: files[:3] for name, files in taken.items()
                                           if name not in GLIBC_LIBRARIES}


def test_serves_a_document_and_a_photo_question_inside_debian_11_and_stops_on_sigterm(app):
    if smoke.offline_prefix() is None:
        pytest.skip(smoke.offline_unavailable_reason())
    result = portable_check.check_in_tree(app)
    assert result["libc6"].startswith("2.31-"), result
    assert smoke.EXPECTED_ANSWER in result["answer"], result
    assert smoke.serves_photos(app) and smoke.PHOTO_EXPECTED in result["photo_answer"], result  # issue 11's photos
    assert result["stop_s"] < smoke.SHUTDOWN_LIMIT_S, result


def test_the_debian_11_tree_has_no_python():
    tree, record = debian_tree.minbase_tree()
    assert record["inputs"]["spec"]["variant"] == "minbase" and record["inputs"]["spec"]["suite"] == "bullseye"
    assert record["libc6"].startswith("2.31-"), record
    assert portable_check.python_in_tree(tree) == []
