"""The API tests use the services tests' sandbox store (one per module)."""

from tests.integration.services.conftest import sandbox  # noqa: F401 - a fixture

__all__ = ["sandbox"]
