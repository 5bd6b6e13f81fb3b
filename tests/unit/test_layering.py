"""DESIGN §8: dependencies point one way. The engine never imports the CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _imported_modules(path: Path) -> set[str]:
    """Top-level names of everything `path` imports (relative imports stay inside their package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_under_runtime_imports_launcher():
    offenders = sorted(str(path.relative_to(REPO)) for path in (REPO / "runtime").rglob("*.py")
                       if "launcher" in _imported_modules(path))
    assert offenders == []


def test_only_the_server_package_imports_aiohttp():
    offenders = sorted(str(path.relative_to(REPO)) for path in (REPO / "runtime").rglob("*.py")
                       if "aiohttp" in _imported_modules(path)
                       and (REPO / "runtime" / "server") not in path.parents)
    assert offenders == []


def test_the_check_sees_an_import_of_launcher(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from launcher.cli import main\n", encoding="utf-8")
    assert "launcher" in _imported_modules(module)


def test_importing_the_engine_loads_nothing_from_launcher():
    code = (
        "import sys, runtime\n"
        "from runtime import load_model, plan_load, Model, GenerationParams, WanError\n"
        "import runtime.loading, runtime.placement, runtime.bundle.importer, runtime.bundle.checksums\n"
        "import runtime.server.app, runtime.server.serve\n"
        "print(sorted(m for m in sys.modules if m == 'launcher' or m.startswith('launcher.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_only_the_ray_hosts_import_ray_or_starlette():
    """The `ray` extra is optional and never frozen (packaging/wan.spec): only runtime/asgi and
    runtime/ray_serve may import it (issue 16)."""
    hosts = (REPO / "runtime" / "asgi", REPO / "runtime" / "ray_serve")
    offenders = sorted(str(path.relative_to(REPO)) for path in [*(REPO / "runtime").rglob("*.py"),
                                                                *(REPO / "launcher").rglob("*.py")]
                       if _imported_modules(path) & {"ray", "starlette", "uvicorn", "fastapi"}
                       and not any(host in path.parents for host in hosts))
    assert offenders == []


def test_the_cli_and_the_aiohttp_server_load_no_ray():
    code = (
        "import sys, launcher.cli, runtime.server.app, runtime.server.serve, runtime.ray_serve.config\n"
        "print(sorted(m for m in ('ray', 'starlette', 'uvicorn', 'runtime.asgi') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_cli_and_run_server_import_no_aiohttp_before_the_load_starts():
    """`run_server` binds the port and starts loading before aiohttp (~0.2 s) is imported
    (issue 13, cold start): neither the launcher nor `runtime.server` may import it eagerly."""
    code = (
        "import sys, launcher.cli, runtime.server, runtime.server.listen\n"
        "from runtime.server import run_server, ServerConfig\n"
        "print('aiohttp' in sys.modules)\n"
        "from runtime.server import create_app\n"
        "print('aiohttp' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
