"""Smoke-test an unpacked release folder as a user would run it (DESIGN §7, step 5).

    python packaging/smoke.py DIR [--serve auto|yes|no]     DIR: the unpacked `wan2.2-turbo/`

Checks `--version`, `info --json` and `verify bundle` from another working directory with no
network (`unshare -n` where it works), then the server: start it on a free port with no
network, wait for /health, fetch the web page at /, ask a chat completion about a drawn invoice (the answer must hold
"42.50") and, where the bundle has the photo models, one about a photo (scikit-image's `chelsea`: the answer must
name the cat), SIGTERM → exit 0 within 10 s and no process left. `auto` serves only once the
server (runtime/server/app.py) and a bundle with the `vqa` task exist.
Used by release.py after each build and by tests/e2e/test_release.py.

Not an importable package: put packaging/ on ``sys.path`` and ``import smoke``.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from offline import loopback_up, offline_prefix

REPO = Path(__file__).resolve().parent.parent
APP_NAME = "wan2.2-turbo"
SERVER_MODULE = REPO / "runtime" / "server" / "app.py"
INVOICE_LINES = ("NORTHWIND HARDWARE", "Invoice INV-20417", "Total due: 42.50 EUR")
QUESTION = "What is the total due?"
EXPECTED_ANSWER = "42.50"
# A real photo (inside scikit-image's wheel, which the build environment has) and what the
# detector must have found in it (tests/golden/test_photo_answers.py asks the same at fp32).
PHOTO_NAME = "chelsea"
PHOTO_QUESTION = "How many animals are there?"
PHOTO_EXPECTED = "a cat"
PHOTO_COMPONENT = "detector"  # a bundle with this component answers questions about photos
SHUTDOWN_LIMIT_S = 10.0
START_LIMIT_S = 180.0


class SmokeError(AssertionError):
    """A smoke check failed; the message says which and shows the output."""


def executable(app: Path) -> Path:
    return app / (APP_NAME + (".exe" if os.name == "nt" else ""))


def offline_unavailable_reason() -> str:
    return ("'unshare -n true' does not work here (not Linux, no unshare, or no permission for network "
            "namespaces), so the no-network runs cannot be made")


def run_app(app: Path, args: list[str], cwd: Path, offline: bool, timeout_s: float = 300,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the release's binary; `offline` requires a no-network prefix (see `offline_prefix`)."""
    prefix: tuple[str, ...] = ()
    if offline:
        prefix = offline_prefix() or ()
        if not prefix:
            raise SmokeError(offline_unavailable_reason())
    binary = str(executable(app))
    if os.name != "nt" and executable(app).is_relative_to(cwd):  # as typed: ./wan2.2-turbo/wan2.2-turbo
        binary = "./" + executable(app).relative_to(cwd).as_posix()
    return subprocess.run([*prefix, binary, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout_s, env=env, check=False)


def _expect(done: subprocess.CompletedProcess, what: str, code: int = 0) -> subprocess.CompletedProcess:
    if done.returncode != code:
        raise SmokeError(f"{what}: exit {done.returncode} (expected {code})\nstdout:\n{done.stdout}\n"
                         f"stderr:\n{done.stderr}")
    return done


def check_version(app: Path, cwd: Path, offline: bool, version: str) -> float:
    started = time.perf_counter()
    done = _expect(run_app(app, ["--version"], cwd, offline), "--version")
    if version not in done.stdout:
        raise SmokeError(f"--version printed {done.stdout!r}, expected version {version}")
    return time.perf_counter() - started


def check_info(app: Path, cwd: Path, offline: bool, version: str) -> float:
    started = time.perf_counter()
    done = _expect(run_app(app, ["info", "--json"], cwd, offline), "info --json")
    report = json.loads(done.stdout)
    if report.get("version") != version or "CPUExecutionProvider" not in json.dumps(report):
        raise SmokeError(f"info --json reported {done.stdout[:400]}")
    return time.perf_counter() - started


def check_verify(app: Path, cwd: Path, offline: bool) -> None:
    done = _expect(run_app(app, ["verify", str(app / "bundle")], cwd, offline), "verify bundle")
    if "ok" not in done.stdout:
        raise SmokeError(f"verify printed {done.stdout!r}")


def bundle_tasks(app: Path) -> list[str]:
    return json.loads((app / "bundle" / "bundle.json").read_text(encoding="utf-8")).get("tasks", [])


def serve_skip_reason(app: Path) -> str | None:
    """Why the server smoke test cannot run yet, or None when it can."""
    if not SERVER_MODULE.is_file():
        return f"the HTTP server does not exist yet ({SERVER_MODULE.relative_to(REPO)} is missing)"
    if "vqa" not in bundle_tasks(app):
        return f"the release's bundle has no 'vqa' task (tasks: {bundle_tasks(app)}); the reader bundle has"
    return None


def serves_photos(app: Path) -> bool:
    """Whether the release's bundle has the photo models (the reader bundle since issue 11)."""
    manifest = app / "bundle" / "bundle.json"
    return manifest.is_file() and PHOTO_COMPONENT in json.loads(manifest.read_text(encoding="utf-8"))["components"]


def photo_png() -> bytes:
    """scikit-image's sample photo PHOTO_NAME as PNG bytes."""
    import skimage.data
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(getattr(skimage.data, PHOTO_NAME)()).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def invoice_png() -> bytes:
    """A drawn invoice (the same text as the main job's sample document)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (900, 260), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=34)
    for row, line in enumerate(INVOICE_LINES):
        draw.text((30, 25 + row * 75), line, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --- the server check ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy


def _http(method: str, url: str, body: dict | None = None, timeout_s: float = 120) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _session_processes(session_id: int) -> list[int]:
    """Processes still in the server's session (Linux /proc; elsewhere its process group)."""
    if not Path("/proc/self/stat").exists():
        try:
            os.killpg(session_id, 0)
        except (ProcessLookupError, PermissionError, AttributeError):
            return []
        return [session_id]
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session_id and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _chat(base: str, model_id: str, question: str, png: bytes) -> tuple[int, bytes]:
    image = "data:image/png;base64," + base64.b64encode(png).decode()
    request = {"model": model_id, "max_tokens": 32, "messages": [{"role": "user", "content": [
        {"type": "text", "text": question}, {"type": "image_url", "image_url": {"url": image}}]}]}
    return _http("POST", f"{base}/v1/chat/completions", request)


def serve_steps(app: Path, log_dir: Path, photo: bool | None = None) -> dict:
    """Start the server, ask a document question (and a photo question when `photo`; None:
    when `app`'s bundle serves photos), stop it. Runs in the current network namespace."""
    photo = serves_photos(app) if photo is None else photo
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = log_dir / "server.log"
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        server = subprocess.Popen([str(executable(app)), "--port", str(port)], cwd=log_dir, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=os.name != "nt",
                                  creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0))

        def fail(message: str) -> SmokeError:
            if server.poll() is None:
                server.kill()
                server.wait()
            return SmokeError(f"{message}\nserver log:\n{log_path.read_text(errors='replace')[-4000:]}")

        while True:
            if server.poll() is not None:
                raise fail(f"server exited with {server.returncode} before /health was 200")
            if time.perf_counter() - started > START_LIMIT_S:
                raise fail(f"/health not 200 after {START_LIMIT_S:.0f} s")
            try:
                status, _ = _http("GET", f"{base}/health", timeout_s=5)
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.2)
        ready_s = time.perf_counter() - started
        status, body = _http("GET", f"{base}/v1/models")
        if status != 200:
            raise fail(f"/v1/models gave {status}: {body[:300]!r}")
        model_id = json.loads(body)["data"][0]["id"]
        status, body = _http("GET", f"{base}/")  # the web page is frozen into the binary with its assets
        if status != 200 or b"<html" not in body.lower():
            raise fail(f"GET / gave {status}, not the web page: {body[:300]!r}")
        asked = time.perf_counter()
        status, body = _chat(base, model_id, QUESTION, invoice_png())
        answer_s = time.perf_counter() - asked
        if status != 200:
            raise fail(f"chat completion gave {status}: {body[:500]!r}")
        answer = json.loads(body)["choices"][0]["message"]["content"]
        if EXPECTED_ANSWER not in answer:
            raise fail(f"the answer to {QUESTION!r} lacks {EXPECTED_ANSWER!r}: {answer!r}")
        photo_answer = None
        if photo:
            status, body = _chat(base, model_id, PHOTO_QUESTION, photo_png())
            if status != 200:
                raise fail(f"chat completion about the photo gave {status}: {body[:500]!r}")
            photo_answer = json.loads(body)["choices"][0]["message"]["content"]
            if PHOTO_EXPECTED not in photo_answer:
                raise fail(f"the answer to {PHOTO_QUESTION!r} about {PHOTO_NAME} lacks {PHOTO_EXPECTED!r}: "
                           f"{photo_answer!r}")
        stopping = time.perf_counter()
        server.send_signal(signal.SIGTERM if os.name != "nt" else signal.CTRL_BREAK_EVENT)
        try:
            code = server.wait(timeout=SHUTDOWN_LIMIT_S)
        except subprocess.TimeoutExpired:
            raise fail(f"server still running {SHUTDOWN_LIMIT_S:.0f} s after SIGTERM") from None
        stop_s = time.perf_counter() - stopping
        if code != 0 and os.name != "nt":
            raise fail(f"server exited with {code} after SIGTERM (expected 0)")
        left = _session_processes(server.pid) if os.name != "nt" else []
        if left:
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            raise fail(f"processes left after shutdown: {left}")
    return {"ready_s": round(ready_s, 2), "answer_s": round(answer_s, 2), "stop_s": round(stop_s, 2),
            "answer": answer, **({"photo_answer": photo_answer} if photo else {})}


def check_serve(app: Path, offline: bool = True) -> dict:
    """The server check, in a fresh network namespace (loopback only) when `offline`."""
    with tempfile.TemporaryDirectory(prefix="wan-smoke-") as scratch:
        if not offline:
            return serve_steps(app, Path(scratch))
        prefix = offline_prefix()
        if prefix is None:
            raise SmokeError(offline_unavailable_reason())
        done = subprocess.run([*prefix, sys.executable, __file__, "serve-inside", str(app), scratch],
                              capture_output=True, text=True, timeout=START_LIMIT_S + 120, check=False)
        if done.returncode != 0:
            raise SmokeError(f"serve check failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def run_checks(app: Path, serve: str = "auto") -> dict:
    """All smoke checks on an unpacked release folder; returns timings. Raises SmokeError."""
    sys.path.insert(0, str(REPO / "packaging"))
    from release import read_version

    version = read_version()
    offline = offline_prefix() is not None
    if not offline:
        print(f"[smoke] running with the network: {offline_unavailable_reason()}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="wan-smoke-cwd-") as elsewhere:
        results["version_first_s"] = check_version(app, Path(elsewhere), offline, version)
        results["version_s"] = min(check_version(app, Path(elsewhere), offline, version) for _ in range(3))
        results["info_s"] = min(check_info(app, Path(elsewhere), offline, version) for _ in range(3))
        check_verify(app, Path(elsewhere), offline)
    results = {key: round(value, 3) for key, value in results.items()}
    reason = serve_skip_reason(app)
    if serve == "yes" or (serve == "auto" and reason is None):
        results["serve"] = check_serve(app, offline)
    else:
        results["serve"] = f"skipped: {reason or 'not asked'}"
    print(f"[smoke] ok: {json.dumps(results)}", flush=True)
    return results


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve-inside"]:  # we are inside `unshare -n`
        loopback_up()
        print(json.dumps(serve_steps(Path(argv[1]), Path(argv[2]))))
        return 0
    parser = argparse.ArgumentParser(prog="smoke.py", description=__doc__.splitlines()[0])
    parser.add_argument("app", type=Path, help="the unpacked wan2.2-turbo/ folder")
    parser.add_argument("--serve", choices=["auto", "yes", "no"], default="auto")
    args = parser.parse_args(argv)
    try:
        run_checks(args.app.resolve(), args.serve)
    except SmokeError as error:
        print(f"[smoke] FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
