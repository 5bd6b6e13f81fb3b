"""The CLI end to end in-process (click's CliRunner), on the real OCR bundle and tiny captioner."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from runtime import __version__
from runtime.placement import detect_hardware


def test_version(invoke):
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"wan2.2-turbo, version {__version__}"


def test_help_lists_every_command(invoke):
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("serve", "run", "info", "verify", "import"):
        assert command in result.stdout


# --- info ----------------------------------------------------------------------------------------

def test_info_json_has_hardware_and_selection(invoke, ocr_bundle):
    result = invoke("info", "--json", "--model", ocr_bundle)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    hardware = report["hardware"]
    assert hardware["usable_cores"] >= 1 and hardware["ram_total_bytes"] > 0
    assert "CPUExecutionProvider" in hardware["providers"]
    assert report["bundle"]["name"] == "ocr" and report["bundle"]["tasks"] == ["read"]
    selection = report["selection"]
    assert selection["device"] == "cpu"
    assert set(selection["components"]) == {"ocr_det", "ocr_cls", "ocr_rec"}
    assert selection["components"]["ocr_rec"]["reason"] == "only fp32 available"
    assert hardware["int8_kernels"] == detect_hardware().int8_kernels
    assert selection["threads"]["workers"] == 1  # info plans like `run`: one request at a time
    assert selection["threads"]["intra_op_threads"] == hardware["usable_cores"]


def test_info_text_shows_the_choice_and_why(invoke, captioner):
    result = invoke("info", "--model", captioner, "--precision", "fp32")
    assert result.exit_code == 0, result.output
    assert "usable" in result.stdout and "providers:" in result.stdout and "(int8 kernels: " in result.stdout
    assert "threads: " in result.stdout and "1 worker(s)" in result.stdout
    assert "decoder_merged: fp32 (onnx/decoder_model_merged.onnx) — --precision fp32" in result.stdout


def test_info_with_an_impossible_device_is_a_distinct_error(invoke, ocr_bundle):
    result = invoke("info", "--model", ocr_bundle, "--device", "cuda")
    assert result.exit_code == 5
    assert "CUDAExecutionProvider" in result.stderr


# --- verify --------------------------------------------------------------------------------------

def test_verify_ok(invoke, ocr_bundle):
    result = invoke("verify", ocr_bundle)
    assert result.exit_code == 0, result.output
    assert "ok: 3 files of bundle 'ocr' match bundle.json" in result.stdout


def test_verify_tampered_names_the_file_and_both_hashes(invoke, ocr_bundle, tmp_path):
    bundle = shutil.copytree(ocr_bundle, tmp_path / "ocr")
    manifest = json.loads((bundle / "bundle.json").read_text())
    variant = manifest["components"]["ocr_cls"]["variants"][0]
    target = bundle / variant["file"]
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    result = invoke("verify", bundle)
    assert result.exit_code == 4
    assert str(target) in result.stderr
    assert variant["sha256"] in result.stderr
    assert hashlib.sha256(data).hexdigest() in result.stderr


def _release(tmp_path):
    folder = tmp_path / "dist"
    (folder / "docs").mkdir(parents=True)
    files = {"wan2.2-turbo-0.1.0-linux-x86_64.tar.gz": b"tarball", "docs/notes.md": b"# notes\n"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    lines = [f"{hashlib.sha256(data).hexdigest()}  {name}" for name, data in files.items()]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return folder


def test_verify_sums_good(invoke, tmp_path):
    folder = _release(tmp_path)
    result = invoke("verify", "--sums", folder / "SHA256SUMS")
    assert result.exit_code == 0, result.output
    assert "wan2.2-turbo-0.1.0-linux-x86_64.tar.gz: OK" in result.stdout
    assert "docs/notes.md: OK" in result.stdout


def test_verify_sums_bad(invoke, tmp_path):
    folder = _release(tmp_path)
    (folder / "docs" / "notes.md").write_bytes(b"# changed\n")
    result = invoke("verify", "--sums", folder / "SHA256SUMS")
    assert result.exit_code == 4
    assert "docs/notes.md: FAILED" in result.stdout
    assert "wan2.2-turbo-0.1.0-linux-x86_64.tar.gz: OK" in result.stdout
    assert str(folder / "docs" / "notes.md") in result.stderr
    assert hashlib.sha256(b"# notes\n").hexdigest() in result.stderr
    assert hashlib.sha256(b"# changed\n").hexdigest() in result.stderr


def test_verify_sums_missing_file_and_malformed_file(invoke, tmp_path):
    folder = _release(tmp_path)
    (folder / "docs" / "notes.md").unlink()
    result = invoke("verify", "--sums", folder / "SHA256SUMS")
    assert result.exit_code == 3
    assert "docs/notes.md: FAILED open or read" in result.stdout
    (folder / "SHA256SUMS").write_text("not a checksum line\n")
    result = invoke("verify", "--sums", folder / "SHA256SUMS")
    assert result.exit_code == 3
    assert "line 1 is not in 'sha256sum' format" in result.stderr


def test_verify_sums_star_binary_mode_lines(invoke, tmp_path):
    data = bytes([0, 1])
    (tmp_path / "a.bin").write_bytes(data)
    (tmp_path / "SHA256SUMS").write_text(hashlib.sha256(data).hexdigest() + " *a.bin\n")
    result = invoke("verify", "--sums", tmp_path / "SHA256SUMS")
    assert result.exit_code == 0, result.output


# --- import --------------------------------------------------------------------------------------

def test_import_writes_a_bundle_that_verifies(invoke, captioner):
    result = invoke("import", captioner, "--name", "tiny")
    assert result.exit_code == 0, result.output
    assert "kind vision-encoder-decoder" in result.stdout
    manifest = json.loads((captioner / "bundle.json").read_text())
    assert manifest["name"] == "tiny" and manifest["max_seq_len"] == 64
    assert invoke("verify", captioner).exit_code == 0


def test_import_int8_says_what_it_did_and_why_not(invoke, captioner):
    # the exporter's quantised decoder beside the fp32 one: the step is kept as exported
    result = invoke("import", "--int8", captioner)
    assert result.exit_code == 3
    assert "kept as exported (the decoder has other precisions)" in result.stderr
    assert "needs the GPT-2 step that import rebuilds of fused operators" in result.stderr
    assert invoke("verify", captioner).exit_code == 0  # the plain import's bundle.json
    for path in (captioner / "onnx").glob("*_quantized.onnx"):
        path.unlink()
    result = invoke("import", "--int8", captioner)
    assert result.exit_code == 0, result.output
    assert "rebuilt of fused operators" in result.stderr and "import --int8: step fp32" in result.stderr
    assert "decoder_with_past: fp32/int8" in result.stdout


def test_import_of_a_folder_without_config_is_a_bundle_error(invoke, tmp_path):
    result = invoke("import", tmp_path)
    assert result.exit_code == 3
    assert "config.json" in result.stderr


# --- run -----------------------------------------------------------------------------------------

def test_run_read_on_a_drawn_image(invoke, ocr_bundle, receipt_image):
    result = invoke("run", "--model", ocr_bundle, "--task", "read", receipt_image)
    assert result.exit_code == 0, result.output
    assert "42.50" in result.stdout


def test_run_refuses_a_prompt_its_task_would_ignore(invoke, ocr_bundle, receipt_image):
    result = invoke("run", "--model", ocr_bundle, "--task", "read", "--prompt", "What is the total?", receipt_image)
    assert result.exit_code != 0 and "--prompt is for --task ask and rank" in result.stderr


@pytest.mark.parametrize(("task", "flag_text"), [("ask", "--task ask needs --prompt"), ("rank", "--task rank needs --prompt")])
def test_run_names_the_flag_a_task_without_its_prompt_needs(invoke, ocr_bundle, receipt_image, task, flag_text):
    # in the command's own words ("--task ask"), not the engine's task name ("vqa")
    result = invoke("run", "--model", ocr_bundle, "--task", task, receipt_image)
    assert result.exit_code != 0 and flag_text in result.stderr and "vqa" not in result.stderr


def test_run_read_json(invoke, ocr_bundle, receipt_image):
    result = invoke("run", "--model", ocr_bundle, "--task", "read", "--json", receipt_image)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert "42.50" in record["text"]
    assert record["image"] == str(receipt_image)
    assert record["lines"][0]["confidence"] > 0.5 and len(record["lines"][0]["box"]) == 4
    assert record["rotation"] == 0  # the page was read as sent


def test_run_several_files_with_progress_on_stderr(invoke, ocr_bundle, receipt_image, tmp_path):
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (200, 100), "white").save(blank)
    result = invoke("run", "--model", ocr_bundle, "--task", "read", "--json", receipt_image, blank)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["image"] for r in records] == [str(receipt_image), str(blank)]
    assert "42.50" in records[0]["text"] and records[1]["text"] == ""
    assert "read: 2 images" in result.stderr
    text = invoke("run", "--model", ocr_bundle, "--task", "read", receipt_image, blank)
    assert f"== {receipt_image} ==" in text.stdout and f"== {blank} ==" in text.stdout


def test_run_reports_a_bad_image_and_goes_on(invoke, ocr_bundle, receipt_image, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    result = invoke("run", "--model", ocr_bundle, "--task", "read", broken, receipt_image)
    assert result.exit_code == 6
    assert "42.50" in result.stdout
    assert str(broken) in result.stderr


def test_run_task_the_bundle_cannot_do(invoke, ocr_bundle, receipt_image):
    result = invoke("run", "--model", ocr_bundle, "--task", "caption", receipt_image)
    assert result.exit_code == 6
    assert "Tasks it can do: read" in result.stderr


def test_run_caption_with_the_tiny_captioner(invoke, captioner, receipt_image):
    result = invoke("run", "--model", captioner, "--task", "caption", "--json", "--max-new-tokens", "5",
                    receipt_image)
    assert result.exit_code == 0, result.output
    assert 1 <= json.loads(result.stdout)["tokens"] <= 5


def test_precision_absent_from_the_bundle_is_refused(invoke, ocr_bundle, receipt_image):
    result = invoke("run", "--model", ocr_bundle, "--precision", "int8", "--task", "read", receipt_image)
    assert result.exit_code == 5
    assert "no int8 variant" in result.stderr


def test_missing_default_bundle_says_how_to_fix(invoke, monkeypatch, tmp_path, receipt_image):
    import launcher.paths

    monkeypatch.setattr(launcher.paths, "default_bundle_dir", lambda: tmp_path / "nothing")
    result = invoke("run", "--task", "read", receipt_image)
    assert result.exit_code == 3
    assert "Pass --model DIR" in result.stderr


# --- --max-seq-len boundaries ----------------------------------------------------------------------

@pytest.mark.parametrize(("max_seq_len", "exit_code"), [(64, 0), (65, 3)])
def test_max_seq_len_at_start_up(invoke, captioner, receipt_image, max_seq_len, exit_code):
    result = invoke("run", "--model", captioner, "--max-seq-len", max_seq_len, "--task", "caption",
                    "--max-new-tokens", "2", receipt_image)
    assert result.exit_code == exit_code, result.output
    if exit_code:
        assert "--max-seq-len 65 is above the model's own limit of 64 tokens" in result.stderr
        assert "use at most 64" in result.stderr


@pytest.mark.parametrize(("max_new_tokens", "exit_code"), [(9, 0), (10, 6)])
def test_max_seq_len_per_request(invoke, captioner, receipt_image, max_new_tokens, exit_code):
    # The prompt is 1 decoder start token: 1 + 9 fits in 10, 1 + 10 does not.
    result = invoke("run", "--model", captioner, "--max-seq-len", "10", "--task", "caption",
                    "--max-new-tokens", max_new_tokens, receipt_image)
    assert result.exit_code == exit_code, result.output
    if exit_code:
        assert "needs 11 tokens" in result.stderr and "limit is 10" in result.stderr


def test_info_without_any_bundle_shows_the_hardware(invoke, monkeypatch, tmp_path):
    import launcher.paths

    monkeypatch.setattr(launcher.paths, "default_bundle_dir", lambda: tmp_path / "nothing")
    result = invoke("info")
    assert result.exit_code == 0, result.output
    assert "bundle: none" in result.stdout and "cpu:" in result.stdout
    report = json.loads(invoke("info", "--json").stdout)
    assert report["bundle"] is None and report["selection"] is None and report["hardware"]["logical_cores"] >= 1


def test_threads_above_usable_cores_is_honoured_with_a_warning(invoke, ocr_bundle, receipt_image):
    from runtime.placement.hardware import detect_hardware

    threads = detect_hardware().usable_cores + 1
    result = invoke("run", "--model", ocr_bundle, "--threads", threads, "--task", "read", receipt_image)
    assert result.exit_code == 0, result.output
    assert f"--threads {threads} is more than the {threads - 1} cores" in result.stderr
