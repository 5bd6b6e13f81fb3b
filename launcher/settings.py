"""Start-up settings: the defaults file and the flags' values become one frozen config.

Precedence, highest first: command line > `WAN_TURBO_*` environment > defaults file >
built-in defaults. Click gives us the first two and the last; the defaults file enters as
click's `default_map`, which click consults after the command line and the environment.

The defaults file (`wan2.2-turbo.args` beside the frozen binary, see `paths`) holds one
argument per line, as it would be typed: `--port` then `8080` on the next line, or
`--port=8080`, or `--port 8080` (a line starting with `--` is split at its first space
when it has no `=`, so values with spaces need `--opt=value with spaces`). Blank lines and
lines starting with `#` are ignored. Only options are allowed, and only those `serve`
knows; each command takes the ones it has. Relative paths are relative to the file's folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from runtime.api.config import ServerConfig

ENV_PREFIX = "WAN_TURBO_"


def env_name(option: str) -> str:
    """`--max-seq-len` -> `WAN_TURBO_MAX_SEQ_LEN`."""
    return ENV_PREFIX + option.lstrip("-").replace("-", "_").upper()


@dataclass(frozen=True)
class LoadConfig:
    """How to load the model: what `runtime.plan_load` is called with."""

    model_dir: Path
    precision: str = "auto"
    device: str = "auto"
    threads: int | None = None
    max_seq_len: int | None = None
    max_image_pixels: int = 50_000_000
    max_concurrent: int = 1  # requests run at once (serve's --max-batch-size); sizes the thread budget


@dataclass(frozen=True)
class LaunchConfig:
    """Everything `serve` decided at start-up."""

    load: LoadConfig
    server: ServerConfig


def load_config(params: dict, model_dir: Path) -> LoadConfig:
    return LoadConfig(
        model_dir=model_dir,
        precision=params.get("precision") or "auto",
        device=params.get("device") or "auto",
        threads=params.get("threads"),
        max_seq_len=params.get("max_seq_len"),
        max_image_pixels=params.get("max_image_pixels") or LoadConfig.max_image_pixels,
        max_concurrent=params.get("max_batch_size") or LoadConfig.max_concurrent,
    )


def launch_config(params: dict, model_dir: Path, model_id: str | None = None) -> LaunchConfig:
    """The frozen config of `serve`, from its click parameters."""
    load = load_config(params, model_dir)
    server = ServerConfig(
        host=params["host"],
        port=params["port"],
        api_key=params.get("api_key") or None,
        max_body_bytes=params["max_body_bytes"],
        max_image_pixels=load.max_image_pixels,
        max_queue=params["max_queue"],
        media_dir=params.get("media_dir"),
        allow_remote_images=params["allow_remote_images"],
        cors_origins=tuple(params.get("cors_origins") or ()),
        log_format=params["log_format"],
        model_id=model_id,
    )
    return LaunchConfig(load, server)


# --- the defaults file ------------------------------------------------------------------------

def read_args_file(path: Path) -> list[str]:
    """The arguments in a defaults file (see the module docstring for the format)."""
    tokens = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, _, tail = line.partition(" ")
        if line.startswith("--") and "=" not in head and tail.strip():
            tokens += [head, tail.strip()]
        else:
            tokens.append(line)
    return tokens


def defaults_map(path: Path | None, source_command: click.Command, commands: dict[str, click.Command]) -> dict:
    """click `default_map` for every command, from the defaults file at `path` (if any)."""
    if path is None or not path.is_file():
        return {}
    values = parse_defaults(read_args_file(path), source_command, path)
    found = {}
    for name, command in commands.items():
        known = {param.name for param in command.params}
        found[name] = {key: value for key, value in values.items() if key in known}
    return found


def parse_defaults(tokens: list[str], command: click.Command, path: Path) -> dict:
    """Option name -> raw value, parsed by `command`'s own option parser."""
    context = click.Context(command, info_name=command.name)
    parser = command.make_parser(context)
    try:
        options, arguments, _ = parser.parse_args(args=list(tokens))
    except click.UsageError as error:
        raise click.UsageError(f"defaults file {path}: {error.format_message()}") from None
    allowed = {p.name: p for p in command.params if isinstance(p, click.Option) and p.expose_value}
    unexpected = [str(a) for a in arguments] + [f"--{k.replace('_', '-')}" for k in options if k not in allowed]
    if unexpected:
        raise click.UsageError(f"defaults file {path}: only options of 'serve' may be set there, not {unexpected}.")
    for name, value in options.items():
        if isinstance(allowed[name].type, click.Path) and value and not Path(value).is_absolute():
            options[name] = str(path.parent / value)
    return options
