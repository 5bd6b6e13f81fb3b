"""`serve` (and no command at all) with a stand-in run_server; flag, env and defaults-file precedence."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

import runtime.server
from runtime.placement import detect_hardware
from runtime.api.config import ServerConfig


@pytest.fixture
def served(monkeypatch):
    """Replace run_server; the list receives (load_model, config) per call."""
    calls = []

    def fake_run_server(load_model, config):
        calls.append((load_model, config))
        return 0

    monkeypatch.setattr(runtime.server, "run_server", fake_run_server, raising=False)
    return calls


@pytest.fixture
def frozen_install(monkeypatch, tmp_path, ocr_bundle):
    """A fake frozen install: <tmp>/wan2.2-turbo beside bundle/ and (when written) the defaults file."""
    shutil.copytree(ocr_bundle, tmp_path / "bundle")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "wan2.2-turbo"))
    return tmp_path


def test_serve_builds_the_config_and_a_loader_that_loads(invoke, served, ocr_bundle, tmp_path):
    result = invoke("serve", "--model", ocr_bundle, "--host", "0.0.0.0", "--port", "9123", "--api-key", "k",
                    "--max-batch-size", "4", "--max-queue", "7", "--media-dir", tmp_path, "--allow-remote-images",
                    "--log-format", "json", "--max-body-bytes", "1000", "--threads", "1", "--max-image-pixels", "4096")
    assert result.exit_code == 0, result.output
    (load_model, config), = served
    assert config == ServerConfig(
        host="0.0.0.0", port=9123, api_key="k", max_body_bytes=1000, max_image_pixels=4096, max_queue=7,
        media_dir=tmp_path, allow_remote_images=True, log_format="json",
    )
    workers = min(4, detect_hardware().usable_cores)  # --threads 1: one worker per usable core, up to 4
    assert f"threads: --threads 1: {workers} worker(s) x 1 intra-op thread(s)" in result.stderr
    assert "ocr_rec: fp32 (models/ch_PP-OCRv4_rec_infer.onnx) — only fp32 available" in result.stderr
    assert "device: cpu (CPUExecutionProvider)" in result.stderr
    model = load_model()
    assert model.name == "ocr" and model.config.max_image_pixels == 4096
    assert model.config.session.intra_op_threads == 1
    assert model.config.workers == workers
    assert {c.provider for c in model.components} == {"CPUExecutionProvider"}


def test_serve_defaults_match_the_server_defaults(invoke, served, ocr_bundle):
    assert invoke("serve", "--model", ocr_bundle).exit_code == 0
    assert served[0][1] == ServerConfig()


def test_serve_exit_code_is_run_servers(invoke, monkeypatch, ocr_bundle):
    monkeypatch.setattr(runtime.server, "run_server", lambda load_model, config: 7, raising=False)
    assert invoke("serve", "--model", ocr_bundle).exit_code == 7


def test_no_command_means_serve(invoke, served, ocr_bundle):
    result = invoke("--model", ocr_bundle, "--port", "9001")
    assert result.exit_code == 0, result.output
    assert served[0][1].port == 9001


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (("--device", "cuda"), 5, "--device cuda needs onnxruntime's CUDAExecutionProvider"),
        (("--precision", "int8"), 5, "no int8 variant"),
    ],
)
def test_serve_refuses_what_it_cannot_do_before_serving(invoke, served, ocr_bundle, args, exit_code, message):
    result = invoke("serve", "--model", ocr_bundle, *args)
    assert result.exit_code == exit_code
    assert message in result.stderr
    assert served == []


@pytest.mark.parametrize(("max_seq_len", "exit_code"), [(64, 0), (65, 3)])
def test_serve_max_seq_len_boundary(invoke, served, captioner, max_seq_len, exit_code):
    result = invoke("serve", "--model", captioner, "--max-seq-len", max_seq_len)
    assert result.exit_code == exit_code, result.output
    if exit_code:
        assert "above the model's own limit of 64" in result.stderr and served == []
    else:
        assert served[0][0]().max_seq_len == 64


# --- precedence: command line > environment > defaults file > built-in --------------------------------

def test_env_mirror_and_flag_precedence(invoke, served, ocr_bundle):
    env = {"WAN_TURBO_PORT": "9200", "WAN_TURBO_MODEL": str(ocr_bundle), "WAN_TURBO_ALLOW_REMOTE_IMAGES": "1",
           "WAN_TURBO_LOG_FORMAT": "json"}
    assert invoke("serve", env=env).exit_code == 0
    assert (served[-1][1].port, served[-1][1].allow_remote_images, served[-1][1].log_format) == (9200, True, "json")
    assert invoke("serve", "--port", "9300", "--no-allow-remote-images", env=env).exit_code == 0
    assert (served[-1][1].port, served[-1][1].allow_remote_images) == (9300, False)


def test_bad_env_value_is_a_usage_error(invoke, served, ocr_bundle):
    result = invoke("serve", "--model", ocr_bundle, env={"WAN_TURBO_PRECISION": "fp64"})
    assert result.exit_code == 2
    assert "fp64" in result.stderr


def test_frozen_binary_serves_its_own_bundle(invoke, served, frozen_install):
    assert invoke().exit_code == 0
    assert served[0][0]().name == "ocr"


def test_defaults_file_precedence(invoke, served, frozen_install, ocr_bundle):
    (frozen_install / "wan2.2-turbo.args").write_text(
        "# baked into the release\n--port\n9100\n\n--host=0.0.0.0\n--log-format json\n--model bundle\n"
        "--allow-remote-images\n"
    )
    assert invoke().exit_code == 0
    config = served[-1][1]
    assert (config.port, config.host, config.log_format, config.allow_remote_images) == (9100, "0.0.0.0", "json", True)
    assert Path(served[-1][0]().name) == Path("ocr")

    assert invoke(env={"WAN_TURBO_PORT": "9200"}).exit_code == 0
    assert (served[-1][1].port, served[-1][1].host) == (9200, "0.0.0.0")

    assert invoke("--port", "9300", env={"WAN_TURBO_PORT": "9200"}).exit_code == 0
    assert served[-1][1].port == 9300

    assert invoke("serve", "--no-allow-remote-images").exit_code == 0
    assert served[-1][1].allow_remote_images is False


def test_defaults_file_relative_model_is_beside_the_binary(invoke, served, frozen_install, monkeypatch, tmp_path):
    (frozen_install / "wan2.2-turbo.args").write_text("--model=bundle\n")
    monkeypatch.chdir(tmp_path.parent)  # not the install folder
    result = invoke("info", "--json")
    assert result.exit_code == 0, result.output
    assert '"path": "' + str(frozen_install / "bundle") in result.stdout


def test_defaults_file_applies_to_run_and_info_options_they_know(invoke, served, frozen_install, receipt_image):
    (frozen_install / "wan2.2-turbo.args").write_text("--port 9100\n--precision int8\n")
    result = invoke("run", "--task", "read", receipt_image)
    assert result.exit_code == 5  # --precision int8 from the file reached `run`; --port was ignored
    assert "no int8 variant" in result.stderr
    assert invoke("run", "--task", "read", "--precision", "auto", receipt_image).exit_code == 0


def test_defaults_file_with_an_unknown_option_is_refused(invoke, served, frozen_install):
    (frozen_install / "wan2.2-turbo.args").write_text("--prot 9100\n")
    result = invoke()
    assert result.exit_code == 2
    assert str(frozen_install / "wan2.2-turbo.args") in result.stderr and "--prot" in result.stderr
    (frozen_install / "wan2.2-turbo.args").write_text("stray\n")
    result = invoke()
    assert result.exit_code == 2 and "only options" in result.stderr


def test_defaults_file_is_not_read_from_source(invoke, served, ocr_bundle, monkeypatch, tmp_path):
    (tmp_path / "wan2.2-turbo.args").write_text("--port 9100\n")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert invoke("--model", ocr_bundle).exit_code == 0
    assert served[-1][1].port == ServerConfig.port
