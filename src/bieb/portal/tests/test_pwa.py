"""The installable app: web app manifest, icons and the service worker."""

import json
import struct

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def png_size(static_url: str) -> tuple[int, int]:
    path = finders.find(static_url.removeprefix("/static/"))
    assert path, f"{static_url} is not a static file"
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{static_url} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_manifest_is_valid_json_with_what_browsers_need_to_install_the_app(client):
    # when
    response = client.get(reverse("portal:manifest"))

    # then
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["name"] == "de Bibliotheek"
    assert manifest["short_name"] == "Bibliotheek"
    assert manifest["start_url"].startswith("/")
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#b8400e"
    assert manifest["background_color"].startswith("#")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon["purpose"] == "maskable" for icon in manifest["icons"])


def test_every_manifest_icon_is_a_png_of_the_size_it_claims(client):
    manifest = json.loads(client.get(reverse("portal:manifest")).content)

    for icon in manifest["icons"]:
        width, height = png_size(icon["src"])
        assert f"{width}x{height}" == icon["sizes"]
        assert icon["type"] == "image/png"


def test_manifest_follows_the_chosen_language(client):
    client.cookies["django_language"] = "en"

    manifest = json.loads(client.get(reverse("portal:manifest")).content)

    assert manifest["lang"] == "en"
    assert manifest["name"] == "the Library"


def test_service_worker_is_javascript_allowed_to_control_the_whole_site(client):
    # when
    response = client.get("/sw.js")

    # then
    assert reverse("portal:service_worker") == "/sw.js"
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    # the browser must see a new worker as soon as it is deployed
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_service_worker_precaches_offline_page_and_shell_and_never_caches_pages_or_posts(client):
    script = client.get("/sw.js").content.decode()

    assert f'const OFFLINE_URL = "{reverse("portal:offline")}";' in script
    assert '"/static/portal/bieb.css"' in script
    assert '"/static/vendor/utrecht/component-library.css"' in script
    assert 'if (request.method !== "GET") return;' in script
    assert 'credentials: "omit"' in script  # the cached offline page is the anonymous one
    # navigations go to the network and fall back to the offline page; they are never put in
    # the cache (only the static branch calls cache.put)
    navigate = script.split('request.mode === "navigate"')[1].split("return;")[0]
    assert "caches.match(OFFLINE_URL)" in navigate
    assert "put(" not in navigate
    assert script.count("cache.put(") == 1


def test_service_worker_cache_name_changes_when_the_shell_changes(client, settings):
    first = client.get("/sw.js").content.decode()

    settings.STATIC_URL = "/static-v2/"

    second = client.get("/sw.js").content.decode()
    version = [line for line in first.splitlines() if line.startswith("const VERSION")]
    assert version and version[0] not in second


def test_pages_register_the_service_worker_from_a_static_script(client):
    html = client.get(reverse("portal:home")).content.decode()

    assert 'src="/static/portal/app.js" defer data-service-worker="/sw.js"' in html
    script_path = finders.find("portal/app.js")
    with open(script_path, encoding="utf-8") as handle:
        script = handle.read()
    assert "navigator.serviceWorker.register" in script
