"""The messaging tests use the small term of the reports tests."""

from tests.reports.conftest import (  # noqa: F401 - fixtures
    _fresh_g_per_request,
    config_overrides,
    frozen_now,
    world,
)
