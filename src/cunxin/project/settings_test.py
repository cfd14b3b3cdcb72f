"""Settings for the test suite: the demo's built-in keys and secrets (CUNXIN_DEMO=1, which
subprocesses started by tests inherit), otherwise the project's settings unchanged."""

import os

os.environ.setdefault("CUNXIN_DEMO", "1")

from cunxin.project.settings import *  # noqa: F403

# SQLite tests use a database file, not memory: the browser tests' live server answers
# from its own threads, and an in-memory database shared between threads fails with
# "database table is locked" where a file database waits for its turn.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import tempfile as _tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(_tempfile.gettempdir(), f"cunxin-test-{os.getpid()}.sqlite3")
    }
# Background tasks are stored as in production; a test runs them with
# `cunxin.jobs.worker.drain()`, the worker's own code in the test's process and transaction.
