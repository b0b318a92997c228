"""One local stack (moto server, real template, real handlers, gateway) on free ports for this package.

Package scope, not session: moto's backends are process-wide, and another file's ``mock_aws`` resets
them; the stack must not outlive the e2e tests that use it (``make test`` mixes files per worker).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.local.demo import ApiClient
from infra.local.stack import LocalStack

START = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Beijing


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state_dir: Path = tmp_path_factory.mktemp("local-stack")
    with LocalStack(api_port=0, moto_port=0, clock="manual", state_dir=state_dir, start_at=START) as running:
        yield running


@pytest.fixture
def api(stack: LocalStack) -> ApiClient:
    return ApiClient(stack.api_url)
