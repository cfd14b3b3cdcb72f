"""The Django project and the package's import boundaries."""

import base64
import subprocess
import sys

import pytest


@pytest.mark.django_db
def test_it_answers_health_checks(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_it_rejects_wrong_methods_on_health(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.postgres
def test_it_runs_on_postgresql(postgres_db, client):
    assert client.get("/healthz").json()["database"] == "postgresql"


def test_the_datapool_imports_without_pyspark_or_django():
    # Block pyspark and django the way a minimal install would lack them.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pyspark', 'django'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import cunxin.datapool.build, cunxin.datapool.engine.duckdb\n"
        "from cunxin.datapool.engine import get_engine\n"
        "try:\n"
        "    get_engine('spark', __import__('pathlib').Path('/tmp'))\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "PoolInputError" in out.stdout
    assert "uv sync --extra spark" in out.stdout


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        "CUNXIN_DEBUG": "0",
        "CUNXIN_SECRET_KEY": "k3y-" + "".join(chr(33 + (i * 7) % 90) for i in range(60)),
        "CUNXIN_ALLOWED_HOSTS": "cunxin.example.com",
        "CUNXIN_DATA_DIR": str(tmp_path),
        "CUNXIN_FIELD_KEYS": "k1:" + base64.b64encode(b"f" * 32).decode(),
        "CUNXIN_BLIND_INDEX_KEYS": "k1:" + base64.b64encode(b"b" * 32).decode(),
        "DJANGO_SETTINGS_MODULE": "cunxin.project.settings",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_production_refuses_the_demo_keys(tmp_path):
    env = {
        "CUNXIN_DEBUG": "0",
        "CUNXIN_SECRET_KEY": "k3y-" + "x" * 60,
        "CUNXIN_ALLOWED_HOSTS": "cunxin.example.com",
        "CUNXIN_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "cunxin.project.settings",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-m", "django", "check"], capture_output=True, text=True, env=env
    )
    assert out.returncode != 0
    assert "CUNXIN_FIELD_KEYS" in out.stderr
