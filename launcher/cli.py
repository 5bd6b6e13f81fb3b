"""The `wan2.2-turbo` command line. Glue only: parsing, printing, exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from runtime import __version__
from runtime.errors import (
    BundleError, IntegrityError, InvalidRequestError, ProviderUnavailableError, WanError,
)
from runtime.api.config import ServerConfig

from . import paths
from .settings import defaults_map, env_name, launch_config, load_config

EXIT_CODES = (  # most specific first
    (IntegrityError, 4),
    (BundleError, 3),
    (ProviderUnavailableError, 5),
    (InvalidRequestError, 6),
    (WanError, 1),
)
PRECISIONS = ("auto", "fp32", "fp16", "int8", "int4")
DEVICES = ("auto", "cpu", "cuda", "tensorrt", "rocm", "coreml", "directml")
TASKS = ("caption", "ask", "read", "embed", "rank")


def _exit_code(error: WanError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


class _Group(click.Group):
    """`serve` when no command is named; the defaults file; engine errors → exit codes."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help", "--version")):
            args = ["serve", *args]
        return super().parse_args(ctx, args)

    def make_context(self, info_name, args, parent=None, **extra):
        if "default_map" not in extra:
            extra["default_map"] = defaults_map(paths.defaults_file(), self.commands["serve"], self.commands)
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except WanError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(_exit_code(error))


def _option(*declarations, **settings):
    """A click option with its `WAN_TURBO_*` environment mirror shown in --help."""
    long_name = next(d for d in declarations if d.startswith("--")).split("/")[0]
    return click.option(*declarations, envvar=env_name(long_name), show_envvar=True, **settings)


def _with(options):
    """Apply a tuple of option decorators, first option first in --help."""

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


_DIRECTORY = click.Path(exists=True, file_okay=False, path_type=Path)


def _check_api_key(ctx, param, value: str | None) -> str | None:
    """An empty key (`--api-key "$UNSET"`) would silently serve without one: refuse it."""
    if value is not None and (not value.strip() or value != value.strip()):
        raise click.BadParameter(
            "the key is empty or starts or ends with white space (clients' 'Bearer KEY' headers cannot "
            "carry that); give a key, or leave --api-key out to serve without one.", ctx, param,
        )
    return value


def _check_origins(ctx, param, values) -> tuple[str, ...]:
    """Each --cors-origin is '*' or scheme://host[:port], exactly as browsers send `Origin`."""
    for value in values:
        if value == "*":
            continue
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment:
            raise click.BadParameter(
                f"'{value}' is not an origin: give scheme://host[:port] with no path or trailing slash, "
                "e.g. https://app.example:8443, or '*' for any origin.", ctx, param,
            )
    return tuple(value.lower() for value in values)  # browsers send scheme and host in lower case


_LOAD_OPTIONS = (
    _option("--model", "model_dir", type=_DIRECTORY,
            help="Bundle folder (bundle.json), or an Optimum / transformers.js model folder. "
                 "Default: the bundle shipped beside the binary."),
    _option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True,
            help="Weights precision: auto picks per component by measured speed and accuracy; an explicit "
                 "value goes to every component that offers it (the others keep auto's pick; `info` says "
                 "which) or is refused."),
    _option("--device", type=click.Choice(DEVICES), default="auto", show_default=True,
            help="Execution device; an explicit value is honoured exactly or refused."),
    _option("--threads", type=click.IntRange(min=1),
            help="Threads per inference session. Default: the cores this process may use, divided "
                 "between the requests that run at once (serve's --max-batch-size)."),
    _option("--max-seq-len", type=click.IntRange(min=1),
            help="Cap on prompt + image + generated tokens per request (at most the model's own limit)."),
    _option("--max-image-pixels", type=click.IntRange(min=1), default=ServerConfig.max_image_pixels,
            show_default=True, help="Decoded images above this many pixels are refused."),
)

_SERVER_OPTIONS = (
    _option("--host", default=ServerConfig.host, show_default=True, help="Address to listen on."),
    _option("--port", type=click.IntRange(0, 65535), default=ServerConfig.port, show_default=True,
            help="Port to listen on (0: any free port)."),
    _option("--api-key", callback=_check_api_key,
            help="Require 'Authorization: Bearer KEY' on everything but /health."),
    _option("--max-batch-size", type=click.IntRange(min=1), default=8, show_default=True,
            help="Most requests the engine runs at once; the usable cores are split between them "
                 "(workers x threads per session <= cores; a captioner's batched decoder steps on all of them). "
                 "An fp32 or fused int4 language model decodes up to this many replies in one batched step, "
                 "a captioner (vision-encoder-decoder) up to this many captions started together "
                 "(beam search: each alone); dynamically quantized int8 decoders decode each alone "
                 "(import --int8's 8-bit step batches)."),
    _option("--max-queue", type=click.IntRange(min=1), default=ServerConfig.max_queue, show_default=True,
            help="Requests waiting beyond this get 503 with Retry-After."),
    _option("--max-body-bytes", type=click.IntRange(min=1), default=ServerConfig.max_body_bytes,
            show_default=True, help="Larger request bodies get 413."),
    _option("--media-dir", type=_DIRECTORY, help="Folder that file:// image URLs may read from."),
    _option("--allow-remote-images/--no-allow-remote-images", default=False, show_default=True,
            help="Let requests name http(s) image URLs (the server then fetches them)."),
    _option("--cors-origin", "cors_origins", multiple=True, callback=_check_origins, metavar="ORIGIN",
            help="Allow browser requests from this origin, e.g. https://app.example:8443 (repeat the "
                 "option for several; '*' allows any). Without it only pages from localhost, 127.0.0.1 "
                 "and [::1] may call the API; once given, only the origins listed may. The server's own "
                 "page may too when opened at an IP address or localhost (a host name needs this option: "
                 "DNS rebinding). The environment variable takes origins separated by spaces."),
    _option("--log-format", type=click.Choice(["text", "json"]), default=ServerConfig.log_format,
            show_default=True, help="Log lines as text or JSON."),
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="wan2.2-turbo")
def main():
    """wan2.2-turbo: offline vision-language inference on onnxruntime.

    With no command it serves the bundle that ships beside the binary (the same as
    `serve`; options such as --port may be given without the command name). Every option
    has a WAN_TURBO_* environment variable; the command line wins over the environment,
    which wins over the defaults file `wan2.2-turbo.args` beside the binary.
    """


# --- shared steps ----------------------------------------------------------------------------

def _resolve_model_dir(model_dir: Path | None) -> Path:
    folder = model_dir or paths.default_bundle_dir()
    if not folder.is_dir():
        raise BundleError(
            f"No bundle at {folder}. Pass --model DIR (or set WAN_TURBO_MODEL) with a bundle folder "
            "or an Optimum / transformers.js model folder."
        )
    return folder


def _plan(load):
    """The runtime's load plan, decided before anything loads or listens: the selection,
    the thread budget, --max-seq-len, and (with `verify`) the bundle's hashes, so a
    tampered bundle stops here (exit 4)."""
    from runtime import plan_load

    plan = plan_load(
        load.model_dir, load.precision, load.device, load.max_seq_len, threads=load.threads,
        max_concurrent=load.max_concurrent, max_image_pixels=load.max_image_pixels, verify=True,
    )
    if load.threads is not None and load.threads > plan.hardware.usable_cores:
        click.echo(
            f"warning: --threads {load.threads} is more than the {plan.hardware.usable_cores} cores this process "
            "may use; the threads will compete for them.", err=True,
        )
    return plan


def _loader(plan, failures: list[WanError] | None = None):
    """A function that loads the planned model (the server calls it on a thread); the
    engine error that stops a load is also put in `failures`, for the exit code."""

    def load_model():
        from runtime import load_model as runtime_load_model

        try:
            return runtime_load_model(plan)
        except WanError as error:
            if failures is not None:
                failures.append(error)
            raise

    return load_model


# --- commands --------------------------------------------------------------------------------

@main.command()
@_with(_LOAD_OPTIONS + _SERVER_OPTIONS)
def serve(**params):
    """Serve the model over HTTP: web page, OpenAI-compatible and native API.

    Prints the variant chosen for each component and why, then serves until stopped.
    SIGTERM or Ctrl+C stops it: requests in flight get up to 10 s to finish, the rest are
    cancelled, and the exit status is 0. Exit status 7: the address cannot be listened on
    (e.g. the port is in use); 3 (bundle), 4 (integrity) or 5 (device): the model cannot be
    loaded, whether found before listening or while loading; 1: any other load failure. A
    warning is printed when --host lets other machines reach the server.
    """
    model_dir = _resolve_model_dir(params["model_dir"])
    config = launch_config(params, model_dir)
    plan = _plan(config.load)
    manifest = plan.manifest
    click.echo(f"wan2.2-turbo {__version__}: bundle '{manifest.name}' ({manifest.kind}) from {model_dir}", err=True)
    for line in plan.lines():
        click.echo(line, err=True)

    from runtime.server import run_server

    failures: list[WanError] = []
    code = run_server(_loader(plan, failures), config.server)
    # A load that fails after listening (e.g. a file changed since start-up) exits with
    # the code the same error has before listening (4: integrity), not a bare 1.
    sys.exit(_exit_code(failures[0]) if code == 1 and failures else code)


_RAY_OPTIONS = (
    _option("--address", default="local", show_default=True,
            help="Ray cluster: 'local' starts one on this machine for this command (stopped on exit); 'auto' "
                 "joins the cluster this machine belongs to; HOST:PORT joins that head node."),
    _option("--replicas", type=click.IntRange(min=1),
            help="Replicas to run (default 1); or autoscale with --min-replicas and --max-replicas."),
    _option("--min-replicas", type=click.IntRange(min=0), help="Autoscaling: fewest replicas."),
    _option("--max-replicas", type=click.IntRange(min=1), help="Autoscaling: most replicas."),
    _option("--target-ongoing-requests", type=click.FloatRange(min=0, min_open=True), default=2.0,
            show_default=True, help="Autoscaling: requests in progress per replica that Serve aims for."),
    _option("--upscale-delay-s", type=click.FloatRange(min=0), default=30.0, show_default=True,
            help="Autoscaling: seconds the load must stay above the target before a replica is added."),
    _option("--downscale-delay-s", type=click.FloatRange(min=0), default=600.0, show_default=True,
            help="Autoscaling: seconds it must stay below before a replica is removed."),
    _option("--num-cpus", type=click.IntRange(min=1), default=1, show_default=True,
            help="CPUs each replica reserves from Ray; its workers x onnxruntime threads stay within them."),
)


# --threads and --log-format do not apply: each replica sizes its threads from --num-cpus, and Ray
# writes the replicas' logs.
@main.command(name="ray")
@_with(_LOAD_OPTIONS[:3] + _LOAD_OPTIONS[4:] + _SERVER_OPTIONS[:9] + _RAY_OPTIONS)
def ray_command(address, replicas, min_replicas, max_replicas, target_ongoing_requests, upscale_delay_s,
                downscale_delay_s, num_cpus, **params):
    """Serve the model on Ray Serve: the same API from several replicas and machines.

    Needs the optional `ray` extra (pip install "wan2.2-turbo[ray]" on every node); the
    release binary does not include Ray. Each replica loads the bundle from the same path
    (shared storage or a baked image: weights are never shipped through Ray), plans its
    variants for its own node and serves the API of `serve` except the web page and form
    uploads (send images as JSON). Every reply from a replica names it in X-Wan-Replica.
    Prints the URL once every replica is ready; SIGTERM or Ctrl+C takes the application down
    (and a local cluster with it). Exit status 6 when the cluster has fewer CPUs than the
    replicas need; 3, 4 or 5 when the bundle, its integrity or the device is refused on this
    machine, before any cluster starts; 1 when the replicas cannot start (the error says why).
    """
    try:
        from runtime.ray_serve import ReplicaSpec, ScalingSpec
        from runtime.ray_serve.launch import serve_on_ray
    except ImportError as error:
        raise WanError(f"`ray` needs the optional Ray extra, which is not installed ({error}); install it with "
                       "pip install \"wan2.2-turbo[ray]\" (the release binary does not include Ray).") from None
    from runtime.server.serve import exposure_warning

    model_dir = _resolve_model_dir(params["model_dir"])
    config = launch_config({**params, "threads": None, "log_format": "text"}, model_dir)
    autoscaling = min_replicas is not None or max_replicas is not None
    scaling = ScalingSpec(replicas=replicas if replicas is not None or autoscaling else 1, min_replicas=min_replicas,
                          max_replicas=max_replicas, target_ongoing_requests=target_ongoing_requests,
                          upscale_delay_s=upscale_delay_s, downscale_delay_s=downscale_delay_s)
    load = config.load
    spec = ReplicaSpec(str(model_dir.resolve()), load.precision, load.device, load.max_seq_len,
                       load.max_image_pixels, load.max_concurrent, num_cpus)
    plan = _plan(load)  # the bundle's hashes and --precision/--device checked here, before any cluster
    click.echo(f"wan2.2-turbo {__version__}: bundle '{plan.manifest.name}' ({plan.manifest.kind}) from {model_dir}; "
               f"each replica plans its variants on its own node with {num_cpus} CPU(s)", err=True)
    warning = exposure_warning([config.server.host], config.server.api_key is not None)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    sys.exit(serve_on_ray(spec, config.server, scaling, address, announce=lambda line: click.echo(line)))


@main.command(name="run")
@_with(_LOAD_OPTIONS)
@click.option("--task", required=True, type=click.Choice(TASKS),
              help="caption, ask (a question about the image), read (OCR), embed, or rank images by --prompt.")
@click.option("--prompt", default="", help="The question (ask) or the query text (rank).")
@click.option("--max-new-tokens", type=click.IntRange(min=1), help="Most tokens to generate (caption, ask).")
@click.option("--num-beams", type=click.IntRange(min=1), help="Beam search width (caption, ask).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line instead of text.")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def run_command(task, prompt, max_new_tokens, num_beams, as_json, images, **params):
    """Run one TASK on IMAGES locally, without a server.

    Several images are processed in turn, with a progress bar on stderr.
    """
    from runtime import load_model

    from .output import format_text, run_task

    load = load_config(params, _resolve_model_dir(params["model_dir"]))
    model = load_model(_plan(load))
    records = run_task(model, task, list(images), prompt, {"max_new_tokens": max_new_tokens, "num_beams": num_beams})
    failed = 0
    show_bar = len(images) > 1 and task != "rank"
    with click.progressbar(length=len(images), label=f"{task}: {len(images)} images", file=sys.stderr,
                           hidden=not show_bar) as bar:
        for record in records:
            failed += "error" in record
            if as_json:
                click.echo(json.dumps(record, ensure_ascii=False))
            else:
                click.echo(format_text(record, several=len(images) > 1), err="error" in record)
            bar.update(1)
    if failed:  # the other images were still processed; the exit code says not all were
        click.get_current_context().exit(_exit_code(InvalidRequestError("bad image")))


@main.command()
@_with(_LOAD_OPTIONS[:3])
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(as_json: bool, **params):
    """Show the hardware, the bundle, and the variant chosen for each component and why.

    Also which precisions are installed, and which variants an optional download of the
    release adds (the archive to get, unpacked into the same folder).
    """
    from runtime.placement import detect_hardware

    hardware = detect_hardware()
    report = {"version": __version__, "hardware": hardware.to_dict(), "bundle": None, "selection": None,
              "defaults_file": str(paths.defaults_file()) if paths.defaults_file() else None}
    model_dir = params["model_dir"] or paths.default_bundle_dir()
    plan = None
    if params["model_dir"] is not None or model_dir.is_dir():
        load = load_config(params, _resolve_model_dir(model_dir))
        plan = _plan(load)
        manifest = plan.manifest
        report["bundle"] = {"name": manifest.name, "version": manifest.version, "kind": manifest.kind,
                            "tasks": list(manifest.tasks), "path": str(load.model_dir),
                            "max_seq_len": plan.max_seq_len}
        report["selection"] = plan.to_dict()
        report["precisions"] = plan.precisions()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _print_info(report, hardware, plan)


def _print_info(report, hardware, plan) -> None:
    h = report["hardware"]
    click.echo(f"wan2.2-turbo {__version__}")
    click.echo(f"os: {h['os']} {h['arch']}")
    physical = f"{h['physical_cores']} physical, " if h["physical_cores"] else ""
    quota = f", cgroup quota {h['cpu_quota']:g} CPUs" if h["cpu_quota"] else ""
    click.echo(f"cpu: {h['cpu_model']} ({physical}{h['logical_cores']} logical, {h['usable_cores']} usable{quota})")
    click.echo(f"isa: {', '.join(h['isa']) or 'none detected'} (int8 kernels: {h['int8_kernels']})")
    limit = f", cgroup limit {h['memory_limit_bytes'] / 2**30:.1f} GiB" if h["memory_limit_bytes"] else ""
    click.echo(f"ram: {h['ram_available_bytes'] / 2**30:.1f} GiB available of {h['ram_total_bytes'] / 2**30:.1f} GiB{limit}")
    for gpu in hardware.gpus:
        memory = f" ({gpu.memory_free_bytes / 2**30:.1f} GiB free of {gpu.memory_total_bytes / 2**30:.1f} GiB)" \
            if gpu.memory_total_bytes and gpu.memory_free_bytes is not None else ""
        click.echo(f"gpu: {gpu.name}{memory}")
    if not hardware.gpus:
        click.echo("gpu: none found")
    click.echo(f"providers: {', '.join(h['providers']) or 'none'}")
    if report["bundle"] is None:
        click.echo(f"bundle: none (no --model, and nothing at {paths.default_bundle_dir()})")
        return
    b = report["bundle"]
    click.echo(f"bundle: {b['name']} {b['version']} ({b['kind']}; tasks: {', '.join(b['tasks'])}) at {b['path']}")
    precisions = report["precisions"]
    click.echo("precisions installed: " + "; ".join(f"{precision} ({', '.join(components)})"
                                                    for precision, components in precisions["installed"].items()))
    for item in precisions["to_download"]:
        click.echo(f"available to download: {item['precision']} for {item['component']} ({item['file']}, "
                   f"{item['bytes'] / 1e6:.0f} MB) in {item['archive']}")
    *choices, threads = plan.lines()
    for line in choices:
        click.echo(line)
    click.echo(f"{threads} (one request at a time, as `run`; `serve` splits the cores by --max-batch-size)")


@main.command()
@click.argument("model_dir", metavar="[FOLDER]", required=False, type=_DIRECTORY, envvar=env_name("--model"))
@click.option("--sums", "sums_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A release's SHA256SUMS file: check every file it lists, relative to its folder.")
@click.pass_context
def verify(ctx, model_dir: Path | None, sums_file: Path | None):
    """Check a bundle's files against bundle.json, and with --sums a release's SHA256SUMS.

    FOLDER defaults to the bundle served by default; with only --sums, only the sums are checked.
    Every file is checked and listed (OK or FAILED, with why), bad ones included; the files of
    optional variants that are not installed (another download of the release) are listed as
    such, not as failures, and so is an optional archive listed in SHA256SUMS but not
    downloaded. Exit status 4 if any file differs from its recorded hash, 3 if any is missing
    or unreadable.
    """
    failures: list[BundleError] = []
    if sums_file is not None:
        failures += _verify_sums(sums_file, _optional_archives(model_dir or paths.default_bundle_dir()))
    if sums_file is None or ctx.get_parameter_source("model_dir") == click.core.ParameterSource.COMMANDLINE:
        failures += _verify_bundle(_resolve_model_dir(model_dir))
    if failures:
        # Integrity errors (exit 4) outrank missing or unreadable files (exit 3).
        worst = next((f for f in failures if isinstance(f, IntegrityError)), failures[0])
        for failure in failures:
            if failure is not worst:
                click.echo(f"error: {failure}", err=True)
        raise worst


def _verify_bundle(folder: Path) -> list[BundleError]:
    from runtime.bundle import check_files, not_installed, read_manifest
    from runtime.placement import detect_hardware

    manifest = read_manifest(folder)
    optional = not_installed(folder, manifest)
    skipped = {entry for item in optional for entry in item.variant.files()}
    checks = check_files(folder, [entry for entry in manifest.all_files() if entry not in skipped],
                         detect_hardware().usable_cores)
    for check in checks:
        click.echo(f"{check.entry.file}: {check.describe()}")
    for item in optional:
        click.echo(f"{item.variant.file}: not installed (optional {item.variant.precision} variant of "
                   f"{item.component}, in {item.variant.archive})")
    failures = [check.error() for check in checks if not check.ok]
    if not failures:
        also = f"; {len(optional)} optional variant(s) not installed" if optional else ""
        click.echo(f"ok: {len(checks)} files of bundle '{manifest.name}' match bundle.json{also}")
    return failures


def _optional_archives(folder: Path) -> frozenset[str]:
    """The optional archives that the bundle in `folder` names (none without a readable bundle)."""
    from runtime.bundle import read_manifest

    try:
        manifest = read_manifest(folder)
    except BundleError:
        return frozenset()
    return frozenset(v.archive for c in manifest.components.values() for v in c.variants if v.archive)


def _verify_sums(sums_file: Path, optional: frozenset[str] = frozenset()) -> list[BundleError]:
    from runtime.bundle.checksums import check_sums

    checks = check_sums(sums_file)
    skipped = [c for c in checks if c.actual is None and c.name in optional and not c.path.exists()]
    checks = [c for c in checks if c not in skipped]
    for check in checks:
        status = "OK" if check.ok else ("FAILED open or read" if check.actual is None else "FAILED")
        click.echo(f"{check.name}: {status}")
    for check in skipped:
        click.echo(f"{check.name}: not downloaded (optional: the bundle's other precisions)")
    failures: list[BundleError] = [IntegrityError(str(c.path), c.expected, c.actual)
                                   for c in checks if c.actual is not None and not c.ok]
    unreadable = [c for c in checks if c.actual is None]
    if unreadable:
        failures.append(BundleError(f"{len(unreadable)} file(s) listed in {sums_file} are missing or unreadable: "
                                    f"{', '.join(str(c.path) for c in unreadable)}."))
    if not failures:
        click.echo(f"ok: {len(checks)} files match {sums_file}")
    return failures


@main.command(name="import")
@click.argument("folder", type=_DIRECTORY)
@click.option("--name", help="Bundle name (default: the folder's name).")
@click.option("--int8", "int8", is_flag=True,
              help="Also write int8 variants of a GPT-2 captioner's encoder and decoder step, measured here against "
                   "fp32 (speed, top-1 agreement on pictures made at import); auto then picks per component the "
                   "fastest that keeps 95% agreement, on CPUs of this one's int8 kernel family. Needs the onnx "
                   "package (the build extra; not in the frozen binary); about a minute for ViT-B/16 + GPT-2.")
def import_command(folder: Path, name: str | None, int8: bool):
    """Write bundle.json for an Optimum / transformers.js model FOLDER."""
    import logging

    from runtime.bundle.importer import import_folder

    # what import does to the graphs, and why not where it does not, said as it goes (stderr)
    bundle_log = logging.getLogger("runtime.bundle")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    saved = bundle_log.level, bundle_log.propagate
    bundle_log.addHandler(handler)
    bundle_log.setLevel(logging.INFO)
    bundle_log.propagate = False
    try:
        manifest = import_folder(folder, name=name, int8=int8)
    finally:
        bundle_log.removeHandler(handler)
        bundle_log.level, bundle_log.propagate = saved
    variants = ", ".join(
        f"{c}: {'/'.join(v.label for v in comp.variants)}" for c, comp in manifest.components.items()
    )
    click.echo(f"wrote {folder / 'bundle.json'}: kind {manifest.kind}, tasks {', '.join(manifest.tasks)}; {variants}")


if __name__ == "__main__":
    main(prog_name="wan2.2-turbo")
