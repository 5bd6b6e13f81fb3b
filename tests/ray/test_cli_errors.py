"""`wan2.2-turbo ray` refuses what cannot work with one line and an exit code, before or
instead of waiting on a cluster (issue 16)."""

from __future__ import annotations

import ray_support  # noqa: F401  (first: it imports Ray with its one known warning allowed)
from ray_support import REPO  # noqa: F401

import os
import subprocess
import sys

import pytest



def _run(*args: str, prelude: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAN_TURBO_")}
    code = f"{prelude}\nfrom launcher.cli import main\nmain({list(args)!r}, prog_name='wan2.2-turbo')"
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def captioner(tiny_models):
    return str(tiny_models("vit_gpt2").folder)


def test_fixed_and_autoscaled_replicas_together_are_refused(captioner):
    done = _run("ray", "--model", captioner, "--replicas", "2", "--min-replicas", "1", "--max-replicas", "3")
    assert done.returncode == 6, done.stderr
    assert "error: Give either a fixed number of replicas or --min-replicas/--max-replicas, not both." in done.stderr


def test_autoscaling_needs_both_bounds(captioner):
    done = _run("ray", "--model", captioner, "--max-replicas", "3")
    assert done.returncode == 6 and "needs both --min-replicas and --max-replicas" in done.stderr


@pytest.mark.slow  # starts a local Ray cluster (~5 s) to count its CPUs
def test_replicas_asking_for_more_cpus_than_the_cluster_has_are_refused_not_left_waiting(captioner):
    too_many = os.cpu_count() + 1
    done = _run("ray", "--model", captioner, "--precision", "fp32", "--num-cpus", str(too_many), "--port", "0")
    assert done.returncode == 6, done.stderr[-3000:]
    assert f"1 replica(s) x {too_many} CPU(s) need {too_many} CPUs, but the Ray cluster has" in done.stderr


def test_without_the_ray_extra_it_says_how_to_install_it(captioner):
    done = _run("ray", "--model", captioner, prelude="import sys; sys.modules['ray'] = None")
    assert done.returncode == 1
    assert "`ray` needs the optional Ray extra" in done.stderr and 'pip install "wan2.2-turbo[ray]"' in done.stderr


@pytest.mark.slow  # a local cluster starts and Serve tries the replica a few times (~17 s)
def test_a_replica_that_cannot_load_its_bundle_stops_the_command_with_its_reason():
    # The launcher plans the bundle on this machine first; a node that lacks it is this case.
    code = ("import threading\n"
            "from runtime.api.config import ServerConfig\n"
            "from runtime.ray_serve import ReplicaSpec, ScalingSpec\n"
            "from runtime.ray_serve.launch import serve_on_ray\n"
            "serve_on_ray(ReplicaSpec('/nonexistent/bundle'), ServerConfig(port=0), ScalingSpec(replicas=1), 'local',\n"
            "             stop=threading.Event())\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert ("runtime.errors.WanError: The replicas could not start: runtime.errors.BundleError: No bundle.json in "
            "/nonexistent/bundle.") in done.stderr
