"""docker-compose.yml as Docker Compose reads it (validated offline: no engine runs here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import unreachable

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {"LMS_JWT_SECRET": "a-signing-secret", "LMS_SECRET_KEY": "a-sealing-key"}


@pytest.fixture
def compose() -> list[str]:
    """Debian's `docker-compose`, else the Docker CLI's plugin (`docker compose`)."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    unreachable("docker-compose is not installed (apt-get install docker-compose)")
    raise AssertionError("unreachable")


def run(compose: list[str], *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "COMPOSE_"))}
    return subprocess.run(
        [*compose, "-f", str(ROOT / "docker-compose.yml"), *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_accepts_the_file(compose):
    result = run(compose, "config", "-q", env=SECRETS)

    assert result.returncode == 0, result.stderr


def test_compose_runs_postgres_redis_a_migration_two_web_instances_and_a_worker(compose):
    result = run(compose, "config", "--services", env=SECRETS)

    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"postgres", "redis", "migrate", "web1", "web2", "worker"}


def test_compose_refuses_to_start_without_the_signing_secret(compose):
    result = run(compose, "config", "-q", env={"LMS_SECRET_KEY": "a-sealing-key"})

    assert result.returncode != 0
    assert "LMS_JWT_SECRET" in result.stderr
