"""The container entry points that docker-compose.yml and deploy/k8s use: `omg init` seeds a
fresh database, and the bootstrap `omg envoy` renders for containers (ext_proc and control
plane by service name) is accepted by the real Envoy binary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.envoy_config import envoy_binary, render_bootstrap
from cli.gateway import ext_proc_ports
from omg_common.settings import Settings

pytestmark = pytest.mark.integration


def test_omg_init_migrates_and_seeds_once(tmp_path: Path) -> None:
    env = {**os.environ, "OMG_HOME": str(tmp_path)}
    env.pop("OMG_DATABASE_URL", None)
    command = [sys.executable, "-m", "cli.main", "init"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    token = (tmp_path / "admin.token").read_text()
    assert token.startswith("omga-") and (tmp_path / "omg.db").exists()
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "admin.token").read_text() == token  # seeded once


def test_container_bootstrap_is_valid_for_envoy(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, bind_host="0.0.0.0", host="0.0.0.0",
                        control_plane_host="control-plane",
                        ext_proc_targets="ext-proc:50051, ext-proc-b:50052")
    text = render_bootstrap(settings, ext_proc_ports(settings))
    assert '"address": "ext-proc", "port_value": 50051' in text
    assert '"address": "ext-proc-b", "port_value": 50052' in text
    assert "address: control-plane" in text
    path = tmp_path / "envoy.yaml"
    path.write_text(text)
    checked = subprocess.run([str(envoy_binary()), "--mode", "validate", "-c", str(path),
                              "--disable-hot-restart"], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
