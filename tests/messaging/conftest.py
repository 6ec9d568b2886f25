"""The messaging tests use the small term of the reports tests."""

from tests.reports.conftest import (  # noqa: F401 - fixtures
    config_overrides,
    frozen_now,
    world,
)
