import pytest

from tests.integration import tasks


@pytest.fixture
def record_task(monkeypatch):
    """`diagnostics.record` for a real worker started after this fixture, with empty
    bookkeeping (request it before the worker fixture)."""
    monkeypatch.setenv(tasks.IMPORTS_ENV, tasks.MODULE)
    tasks.executions_clear()
    yield
    tasks.executions_clear()
