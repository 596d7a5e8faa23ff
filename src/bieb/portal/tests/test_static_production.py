"""In production (DEBUG off) WhiteNoise serves the collected, hashed static files with a
long cache lifetime, and pages point at the hashed names. Runs a real `bieb collectstatic`."""

import json
import os
import secrets
import subprocess
import sys
import textwrap

CHECK = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.test import Client
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    page = client.get("/", secure=True)
    html = page.content.decode()
    manifest = json.load(open(r"{manifest}"))["paths"]
    result = {{"page_status": page.status_code, "files": {{}}}}
    for name in {names!r}:
        hashed = manifest[name]
        response = client.get("/static/" + hashed, secure=True, HTTP_ACCEPT_ENCODING="gzip")
        result["files"][name] = {{
            "hashed": hashed,
            "in_page": ("/static/" + hashed) in html,
            "status": response.status_code,
            "cache_control": response.get("Cache-Control", ""),
            "encoding": response.get("Content-Encoding", ""),
            "content_type": response.get("Content-Type", ""),
        }}
    print(json.dumps(result))
    """
)


def production_env(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "DATABASE_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bieb.config.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        BIEB_VAR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    )
    return env


def test_vendored_css_and_scripts_are_served_hashed_compressed_and_cached_for_a_year(tmp_path):
    # given a production build
    env = production_env(tmp_path)
    collected = subprocess.run(
        [sys.executable, "-m", "bieb", "collectstatic", "--noinput"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    names = [
        "vendor/utrecht/component-library.css",
        "portal/bieb.css",
        "vendor/htmx/htmx.min.js",
        "portal/app.js",
    ]

    # when a browser asks for the home page and the files it links
    checked = subprocess.run(
        [
            sys.executable,
            "-c",
            CHECK.format(manifest=tmp_path / "static" / "staticfiles.json", names=names),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = json.loads(checked.stdout.strip().splitlines()[-1])

    # then
    assert result["page_status"] == 200
    for name, served in result["files"].items():
        assert served["hashed"] != name, name
        assert served["in_page"], f"{name} is not linked by its hashed name"
        assert served["status"] == 200, name
        assert "max-age=315360000" in served["cache_control"], served
        assert "immutable" in served["cache_control"], served
        assert served["encoding"] == "gzip", served
