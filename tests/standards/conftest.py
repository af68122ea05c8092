from tests.transparency.conftest import rec_calls  # noqa: F401
