"""Settings for the test suite: the demo's built-in keys and secrets (CUNXIN_DEMO=1, which
subprocesses started by tests inherit), otherwise the project's settings unchanged."""

import os

os.environ.setdefault("CUNXIN_DEMO", "1")

from cunxin.project.settings import *  # noqa: F403
