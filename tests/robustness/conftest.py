"""The reports' small term (tests/reports/conftest.py) is the world every robustness test
walks: cohorts, children with contacts, marks, payments, certificates."""

from tests.reports.conftest import (  # noqa: F401 - fixtures reused, not copied
    config_overrides,
    frozen_now,
    world,
)
