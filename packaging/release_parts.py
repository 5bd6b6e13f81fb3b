"""Which bundle variants ship in the default download and which in the optional one (issue 15).

The default archive carries, per component, the variants that `--precision auto` picks
(runtime.placement.selection, with the figures recorded in bundle.json) on the reference CPUs
of the build's architecture: on x86_64 one with AVX2 and no VNNI and one with AVX-512 VNNI.
Every other variant goes into the optional archive, which unpacks into the same folder; the
release's bundle.json names that archive in those variants (`archive`), so the launcher can
say what is not installed and where it is. The optional archive is named by the precisions it
carries (`optional_part`): `wan2.2-turbo-<ver>-<os>-<arch>-fp32.tar.gz` when it holds the fp32
variants (issue 15), and never a precision it does not hold.

The split is derived from the rule, never listed by hand: when a measurement changes a pick
(e.g. the fused int4 LM measured accurate on AVX2, which took the fp32 LM out of AVX2's
picks), the default download changes with it. A variant that no reference CPU picks and whose
recorded figures put it under the accuracy floor that automatic selection requires (the
figures' `floor`) on every int8 kernel family it was measured on is `withheld`: in neither
archive, and not in the release's bundle.json. Today that is the dynamic int8 LM (top-1
agreement with fp32 0.591 with VNNI kernels, 0.598 with AVX2's, against 0.95; its own looser
contract, 0.6 on VNNI, is what let `--precision int8` reach it), so in a release
`--precision int8` gives the LM auto's pick and the embedder its int8. The notes say which
and why.

Not an importable package: put packaging/ on ``sys.path`` and ``import release_parts``.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

from runtime.bundle import MANIFEST_NAME, Manifest, Variant, read_manifest
from runtime.bundle.manifest import PRECISIONS
from runtime.placement.hardware import HardwareInfo
from runtime.placement.selection import Selection, holds_contract, select_variants

# (what the notes call it, the ISA flags runtime.placement.hardware reports for it)
REFERENCE_CPUS = {
    "x86_64": (("x86_64 with AVX2, no VNNI", ("avx2",)),
               ("x86_64 with AVX-512 VNNI", ("avx2", "avx512f", "avx512_vnni"))),
    "aarch64": (("aarch64 with NEON, no dot-product", ("neon",)),
                ("aarch64 with NEON and dot-product", ("neon", "dotprod"))),
}
REFERENCE_CPUS["arm64"] = REFERENCE_CPUS["aarch64"]
# Enough memory that no variant is dropped for size: the split is about what is fastest.
REFERENCE_RAM_BYTES = 64 << 30


@dataclass(frozen=True)
class Split:
    """The default set, the optional variants, and the picks the default set came from."""

    default: frozenset[tuple[str, str]]  # (component, variant label)
    optional: tuple[tuple[str, Variant], ...]  # (component, variant), in bundle order
    picks: tuple[tuple[str, HardwareInfo, Selection], ...]  # (reference CPU, its facts, what auto picks there)
    withheld: tuple[tuple[str, Variant], ...] = ()  # measured under its floor everywhere: not released

    def lines(self, manifest: Manifest) -> list[str]:
        """Markdown bullets: per reference CPU, each component's pick and why; then each pick
        that a smaller variant would replace had its accuracy been shown on that CPU."""
        found = []
        for cpu, _, selection in self.picks:
            found.append(f"- {cpu}:")
            found += [f"  - {name}: {choice.variant.label} ({choice.variant.precision}) — {choice.reason}"
                      for name, choice in selection.components.items()]
        for cpu, hardware, selection in self.picks:
            for name, choice in selection.components.items():
                chosen = choice.variant
                held = [v for v in manifest.components[name].variants
                        if v.bytes < chosen.bytes and not holds_contract(v, hardware)]
                if held:
                    smaller = ", ".join(f"{v.label} ({v.bytes / 1e6:.0f} MB; contract: "
                                        f"{'/'.join(v.accurate_on)})" for v in held)
                    found.append(
                        f"- {cpu} gets {name} {chosen.label} ({chosen.bytes / 1e6:.0f} MB) because the smaller "
                        f"{smaller} {'is' if len(held) == 1 else 'are'} not shown accurate with "
                        f"{hardware.int8_kernels} int8 kernels. When a measurement on such a CPU extends a contract "
                        "and records its figures, the rule decides again and the next build ships what it then "
                        f"picks ({chosen.label} moves to the optional download once no reference CPU picks it).")
        for name, variant in self.withheld:
            figures = ", ".join(f"{m.accuracy:g} with {m.kernels} kernels" for m in variant.measured)
            found.append(f"- Not released: {name} {variant.label} ({variant.precision}, {variant.bytes / 1e6:.0f} MB): "
                         f"{variant.measured[0].metric} {figures}, under the floor {variant.measured[0].floor:g} that automatic "
                         "selection requires on every CPU kind it was measured on; no reference CPU picks it.")
        return found


def reference_hardware(arch: str, isa: tuple[str, ...]) -> HardwareInfo:
    return HardwareInfo("Linux", arch, "reference CPU", 8, 8, frozenset(isa), REFERENCE_RAM_BYTES,
                        REFERENCE_RAM_BYTES, ("CPUExecutionProvider",))


def split_bundle(manifest: Manifest, arch: str) -> Split:
    """What auto picks on `arch`'s reference CPUs is the default set; the rest is optional.
    An architecture without reference CPUs ships everything in the default archive."""
    references = REFERENCE_CPUS.get(arch)
    if not references:
        every = frozenset((name, v.label) for name, c in manifest.components.items() for v in c.variants)
        return Split(every, (), ())
    hardware = [(cpu, reference_hardware(arch, isa)) for cpu, isa in references]
    picks = tuple((cpu, facts, select_variants(manifest, facts, "auto", "cpu")) for cpu, facts in hardware)
    default = frozenset((name, choice.variant.label) for _, _, selection in picks
                        for name, choice in selection.components.items())
    left = [(name, v) for name, c in manifest.components.items() for v in c.variants if (name, v.label) not in default]
    withheld = tuple((name, v) for name, v in left if _under_floor_everywhere(v))
    optional = tuple(item for item in left if item not in withheld)
    return Split(default, optional, picks, withheld)


def _under_floor_everywhere(variant: Variant) -> bool:
    """Measured, and under its accuracy floor in every figure recorded for it."""
    return bool(variant.measured) and all(m.accuracy < m.floor for m in variant.measured)


def mark_optional(manifest: Manifest, split: Split, archive: str) -> Manifest:
    """The manifest with `archive` set on each optional variant (and on no other), without the
    withheld variants."""
    optional = {(name, variant.label) for name, variant in split.optional}
    withheld = {(name, variant.label) for name, variant in split.withheld}
    components = {
        name: dataclasses.replace(component, variants=tuple(
            dataclasses.replace(v, archive=archive if (name, v.label) in optional else "")
            for v in component.variants if (name, v.label) not in withheld))
        for name, component in manifest.components.items()
    }
    return dataclasses.replace(manifest, components=components)


def optional_part(split: Split) -> str:
    """What the optional archive's name adds: the precisions it carries, in bundle.json's order
    of precisions, joined by '-' ("fp32", "int8", "fp32-int8"); "" when nothing is optional.
    Derived from the split like the split itself, so the name says what the archive holds."""
    held = {variant.precision for _, variant in split.optional}
    return "-".join(precision for precision in PRECISIONS if precision in held)


def split_release(app: Path, optional_app: Path, split: Split, archive: str) -> Split:
    """Move `split`'s optional variants' files from the staged release `app` (…/wan2.2-turbo)
    into `optional_app` (the optional archive's …/wan2.2-turbo, same relative paths), delete the
    withheld variants' files, and rewrite app's bundle.json to name `archive` in the optional
    variants and leave out the withheld ones. Nothing changes when neither exists."""
    bundle = app / "bundle"
    manifest = read_manifest(bundle)
    shutil.rmtree(optional_app, ignore_errors=True)
    if not split.optional and not split.withheld:
        return split
    withheld = {(name, variant.label) for name, variant in split.withheld}
    kept = {entry.file for name, c in manifest.components.items() for v in c.variants
            if (name, v.label) not in withheld for entry in v.files()}
    kept |= {entry.file for entry in manifest.files}  # the bundle's own files (tokenizers, configs)
    for _, variant in split.withheld:
        for entry in variant.files():
            if entry.file not in kept:  # a file another variant also names stays
                (bundle / entry.file).unlink()
    for _, variant in split.optional:
        for entry in variant.files():
            target = optional_app / "bundle" / entry.file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(bundle / entry.file, target)
    (bundle / MANIFEST_NAME).write_text(mark_optional(manifest, split, archive).to_json(), encoding="utf-8",
                                        newline="\n")
    return split
