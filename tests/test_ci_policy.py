"""In CI a service the suite needs must be there: unreachable is a failure, never a skip."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_TEST = (
    "tests/api/test_smoke.py::test_seed_course_is_created_with_the_seed_fields[postgres]"
)


def run_postgres_test_against_nothing(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["LMS_TEST_POSTGRES_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", POSTGRES_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_under_ci_an_unreachable_postgres_fails_the_run(backend):
    result = run_postgres_test_against_nothing("true")
    assert result.returncode == 1, result.stdout
    assert "unreachable" in result.stdout
    assert "CI=true" in result.stdout


@pytest.mark.parametrize("backend", ["sqlite"])
def test_outside_ci_an_unreachable_postgres_skips_and_says_why(backend):
    result = run_postgres_test_against_nothing(None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "PostgreSQL at" in result.stdout
