"""ops/nginx/conf.d/default.conf: `nginx -t` where nginx is installed, and what the
API expects of its proxy (checked by reading the file, everywhere)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ops.configs import NGINX_CONF, api_server, client_max_body_bytes, parse
from tests.ops.support import run

TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_t(conf: Path, work: Path) -> str:
    """`nginx -t` on conf, included in http {} like the official image's nginx.conf does."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if nginx is None:
        pytest.skip("nginx is not installed (e.g. `apt-get install nginx`): `nginx -t` not run")
    built_without = run([nginx, "-V"])
    temp = "\n".join(
        f"    {name}_temp_path {work / name};"
        for name in TEMP_PATHS
        if f"--without-http_{name}_module" not in built_without
    )
    # The official image's nginx.conf includes it; so do Debian's and Ubuntu's.
    mime_types = Path("/etc/nginx/mime.types")
    wrapper = work / "nginx.conf"
    wrapper.write_text(
        f"pid {work / 'nginx.pid'};\n"
        f"error_log stderr;\n"
        "events {}\n"
        "http {\n"
        f"    access_log {work / 'access.log'};\n"
        f"{temp}\n"
        + (f"    include {mime_types};\n" if mime_types.exists() else "")
        + f"    include {conf};\n"
        "}\n"
    )
    return run([nginx, "-t", "-q", "-p", str(work), "-c", str(wrapper), "-e", "stderr"])


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    nginx_t(NGINX_CONF, tmp_path)


def test_nginx_rejects_a_broken_copy(tmp_path: Path) -> None:
    broken = tmp_path / "default.conf"
    broken.write_text(NGINX_CONF.read_text().replace("gzip on;", "gzip maybe;", 1))
    with pytest.raises(AssertionError, match="gzip"):
        nginx_t(broken, tmp_path)


def test_the_parser_rejects_a_broken_copy() -> None:
    with pytest.raises(AssertionError, match="unterminated"):
        parse(NGINX_CONF.read_text().rstrip().removesuffix("}"))


def test_body_limit_matches_the_apis_max_body_bytes() -> None:
    from api.settings import Settings

    assert client_max_body_bytes() == Settings.model_fields["max_body_bytes"].default


def test_graphql_is_proxied_with_websocket_upgrade() -> None:
    server = api_server()
    graphql = server.location("=", "/graphql")
    headers = graphql.headers()
    assert headers["upgrade"] == "$http_upgrade"
    assert headers["connection"] == "$connection_upgrade"
    upgrade_map = next(
        m for m in parse(NGINX_CONF.read_text()).all("map") if m.args[1] == "$connection_upgrade"
    )
    assert upgrade_map.args[0] == "$http_upgrade"
    assert [d.args for d in upgrade_map.block if d.name == "default"] == [["upgrade"]]
    assert server.one("proxy_http_version").args == ["1.1"]
    assert graphql.one("proxy_pass").args == ["$api_upstream"]


def test_health_endpoints_are_proxied_to_the_api() -> None:
    server = api_server()
    for path in ("/healthz", "/readyz"):
        assert server.location("=", path).one("proxy_pass").args == ["$api_upstream"]
    # Every replica of compose's `api` service, on the port the image exposes.
    assert server.one("set").args == ["$api_upstream", "http://api:8000"]
    assert server.one("resolver").args[0] == "127.0.0.11"  # Docker's embedded DNS


def test_the_real_client_address_is_forwarded() -> None:
    headers = api_server().headers()
    # Replaced, not appended to: what the client sends in X-Forwarded-For is dropped.
    assert headers["x-forwarded-for"] == "$remote_addr"
    assert headers["x-forwarded-proto"] == "$scheme"
    # With the port: the API compares Origin with scheme://Host before it takes the
    # refresh cookie, and a browser's Origin on http://127.0.0.1:8080 has the port.
    assert headers["host"] == "$http_host"


def test_the_client_is_proxied_to_the_api_that_serves_it() -> None:
    # The API's image holds the client's build (Dockerfile, `client` stage): nginx
    # serves no files of its own, so the page and the API are always one version.
    server = api_server()
    assert server.location("/").one("proxy_pass").args == ["$api_upstream"]
    assert not server.all("root")
    assert server.one("gzip").args == ["on"]
    assert "application/json" in server.one("gzip_types").args
    assert "text/javascript" in server.one("gzip_types").args


def test_metrics_are_not_reachable_through_the_edge() -> None:
    metrics = api_server().location("=", "/metrics")

    assert metrics.one("return").args == ["404"]
    assert not metrics.all("proxy_pass")
