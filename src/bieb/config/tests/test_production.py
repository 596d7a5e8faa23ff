"""The production way to serve Bieb: settings that pass ``check --deploy``, gunicorn with
several workers, static files through WhiteNoise. These run the real processes."""

from __future__ import annotations

import gzip
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BIEB = [sys.executable, "-m", "bieb"]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # A clean environment, not this test process's (the test settings and the browser tests
    # put development-only variables into it).
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(
        DJANGO_SETTINGS_MODULE="bieb.config.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1,bieb.example",
        BIEB_VAR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_deploy_check_passes_without_any_warning(tmp_path):
    result = run([*BIEB, "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_stops_start_up_with_a_clear_message(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = run([*BIEB, "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def worker_pids(master_pid: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master_pid:
            children.add(int(stat.parent.name))
    return children


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to count gunicorn workers")
def test_gunicorn_serves_pages_and_compressed_static_files_with_several_workers(tmp_path):
    port = free_port()
    env = production_env(
        tmp_path,
        BEHIND_PROXY="1",
        WEB_CONCURRENCY="3",
        BIND=f"127.0.0.1:{port}",
    )
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = run([*BIEB, *step], env)
        assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    css_name, hashed_css = next(
        (name, hashed) for name, hashed in manifest["paths"].items() if name.endswith(".css")
    )

    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:bieb.config.gunicorn", "bieb.config.wsgi"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    https = {"X-Forwarded-Proto": "https"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, body = fetch(f"{base}/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            time.sleep(0.3)
        assert json.loads(body) == {"status": "ok"}
        assert len(worker_pids(server.pid)) == 3

        status, _, body = fetch(f"{base}/readyz")
        assert status == 200 and json.loads(body)["database"] == "sqlite"

        status, headers, _ = fetch(f"{base}/")
        assert status == 301 and headers["Location"].startswith("https://")

        status, headers, body = fetch(f"{base}/", https)
        assert status == 200
        assert "Strict-Transport-Security" in headers
        assert b'lang="nl"' in body

        status, headers, css = fetch(
            f"{base}/static/{hashed_css}", {**https, "Accept-Encoding": "gzip"}
        )
        assert status == 200
        assert "immutable" in headers.get("Cache-Control", "")
        assert headers.get("Content-Encoding") == "gzip", css_name
        assert gzip.decompress(css) == (tmp_path / "static" / hashed_css).read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=20)
