"""The `wan2.2-turbo` command line. Glue only: parsing, printing, exit codes."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from runtime import __version__
from runtime.errors import (
    BundleError, IntegrityError, InvalidRequestError, ProviderUnavailableError, WanError,
)

EXIT_CODES = (  # most specific first
    (IntegrityError, 4),
    (BundleError, 3),
    (ProviderUnavailableError, 5),
    (InvalidRequestError, 6),
    (WanError, 1),
)


def _exit_code(error: WanError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


class _Group(click.Group):
    """Turns engine errors into one-line messages with distinct exit codes."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except WanError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(_exit_code(error))


def _model_option(function):
    return click.option(
        "--model", "model_dir", envvar="WAN_TURBO_MODEL", required=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Bundle folder (with bundle.json).",
    )(function)


def _load_options(function):
    function = click.option("--precision", envvar="WAN_TURBO_PRECISION", default="auto",
                            type=click.Choice(["auto", "fp32", "fp16", "int8", "int4"]),
                            help="Weights precision; explicit values are honoured or refused.")(function)
    function = click.option("--device", envvar="WAN_TURBO_DEVICE", default="auto",
                            help="auto, cpu, cuda, tensorrt, rocm, coreml or directml.")(function)
    function = click.option("--threads", envvar="WAN_TURBO_THREADS", type=click.IntRange(min=1),
                            help="Threads per inference session (default: usable cores).")(function)
    function = click.option("--max-seq-len", envvar="WAN_TURBO_MAX_SEQ_LEN", type=click.IntRange(min=1),
                            help="Cap on prompt + image + generated tokens per request.")(function)
    return _model_option(function)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wan2.2-turbo")
def main():
    """wan2.2-turbo: offline vision-language inference on onnxruntime."""


@main.command(name="import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--name", help="Bundle name (default: the folder's name).")
def import_command(folder: Path, name: str | None):
    """Write bundle.json for an Optimum / transformers.js model FOLDER."""
    from .importer import import_folder

    manifest = import_folder(folder, name=name)
    variants = ", ".join(
        f"{c}: {'/'.join(v.label for v in comp.variants)}" for c, comp in manifest.components.items()
    )
    click.echo(f"wrote {folder / 'bundle.json'}: kind {manifest.kind}, tasks {', '.join(manifest.tasks)}; {variants}")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify(folder: Path):
    """Check every file of the bundle in FOLDER against its sha256."""
    from .bundle import read_manifest, verify_files

    manifest = read_manifest(folder)
    entries = manifest.all_files()
    verify_files(folder, entries)
    click.echo(f"ok: {len(entries)} files of bundle '{manifest.name}' match bundle.json")


@main.command()
@click.option("--model", "model_dir", envvar="WAN_TURBO_MODEL",
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="Bundle folder to describe.")
@click.option("--precision", envvar="WAN_TURBO_PRECISION", default="auto")
@click.option("--device", envvar="WAN_TURBO_DEVICE", default="auto")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(model_dir: Path | None, precision: str, device: str, as_json: bool):
    """Show the hardware and, with --model, the variant chosen per component and why."""
    from .bundle import read_manifest
    from .hardware import detect_hardware
    from .selection import select_variants

    hardware = detect_hardware()
    report = {"version": __version__, "hardware": {**asdict(hardware), "isa": sorted(hardware.isa)}}
    if model_dir is not None:
        manifest = read_manifest(model_dir)
        selection = select_variants(manifest, hardware, precision, device)
        report["bundle"] = {"name": manifest.name, "kind": manifest.kind, "tasks": list(manifest.tasks)}
        report["selection"] = {
            "device": selection.device,
            "components": {
                name: {"variant": c.variant.label, "precision": c.variant.precision, "file": c.variant.file,
                       "reason": c.reason}
                for name, c in selection.components.items()
            },
        }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    h = report["hardware"]
    click.echo(f"wan2.2-turbo {__version__}")
    click.echo(f"cpu: {h['cpu_model']} ({h['usable_cores']} usable of {h['logical_cores']} logical cores)")
    click.echo(f"isa: {', '.join(h['isa']) or 'none detected'}")
    click.echo(f"ram: {h['ram_available_bytes'] / 2**30:.1f} GiB available of {h['ram_total_bytes'] / 2**30:.1f} GiB")
    click.echo(f"providers: {', '.join(h['providers'])}")
    if "selection" in report:
        click.echo(f"bundle: {report['bundle']['name']} ({report['bundle']['kind']}) on {report['selection']['device']}")
        for name, c in report["selection"]["components"].items():
            click.echo(f"  {name}: {c['variant']} ({c['file']}) — {c['reason']}")


@main.command()
@_load_options
@click.option("--task", required=True, type=click.Choice(["caption", "ask", "read", "embed", "rank"]))
@click.option("--prompt", default="", help="Question (ask) or query text (rank).")
@click.option("--max-new-tokens", type=click.IntRange(min=1))
@click.option("--num-beams", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per image.")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def run(model_dir, precision, device, threads, max_seq_len, task, prompt, max_new_tokens, num_beams, as_json, images):
    """Run one TASK on IMAGES locally, without a server."""
    from runtime import load_model

    from .output import run_task

    model = load_model(model_dir, precision=precision, device=device, max_seq_len=max_seq_len, threads=threads)
    params = {"max_new_tokens": max_new_tokens, "num_beams": num_beams}
    for record in run_task(model, task, list(images), prompt, params):
        click.echo(json.dumps(record) if as_json else record["text"])


if __name__ == "__main__":
    main()
