"""ops/k8s: every manifest valid against Kubernetes' own JSON schemas (strict: no
unknown fields), offline, with the schemas bundled by the kubernetes-validate wheel;
then what the schemas cannot see (names that must match, probes, security)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from kubernetes_validate.utils import (  # type: ignore[import-untyped]
    SchemaNotFoundError,
    ValidationError,
)

from tests.ops.configs import DOCKERFILE, instructions
from tests.ops.support import IMAGE_VARIABLES, OPS, load_settings_from, parse_cli, settings_aliases

K8S = OPS / "k8s"
# The oldest Kubernetes the manifests are meant for, and the newest the wheel knows.
VERSIONS = ("1.30", kubernetes_validate.utils.latest_version())
SECRET_NAME = "glassshop-secrets"
CONFIG_NAME = "glassshop-config"

Manifest = dict[str, Any]


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def load(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def validate(doc: Manifest, version: str) -> None:
    """Strict schema validation; an unknown kind or apiVersion is an error too (the
    kubernetes-validate command only warns about those)."""
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except SchemaNotFoundError as exc:
        raise AssertionError(exc.message) from None
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.path)
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        raise AssertionError(f"{name} {where}: {exc.message}") from None


@pytest.fixture(scope="module")
def manifests() -> dict[tuple[str, str], Manifest]:
    found: dict[tuple[str, str], Manifest] = {}
    for path in manifest_files():
        for doc in load(path):
            key = (doc["kind"], doc["metadata"]["name"])
            assert key not in found, f"{key} defined twice"
            found[key] = doc
    return found


def pod_spec(doc: Manifest) -> Manifest:
    spec: Manifest = doc["spec"]["template"]["spec"]
    return spec


def workloads(manifests: dict[tuple[str, str], Manifest]) -> list[Manifest]:
    return [doc for (kind, _), doc in manifests.items() if kind in ("Deployment", "Job")]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_matches_the_kubernetes_schema(path: Path, version: str) -> None:
    docs = load(path)
    assert docs, f"{path.name} is empty"
    for doc in docs:
        validate(doc, version)


def test_the_validator_rejects_broken_copies(manifests: dict[tuple[str, str], Manifest]) -> None:
    deployment = manifests[("Deployment", "glassshop-api")]
    container = dict(pod_spec(deployment)["containers"][0])
    container["livenessProbe"] = {**container["livenessProbe"], "periodSecond": 10}
    typo = {
        **deployment,
        "spec": {
            **deployment["spec"],
            "template": {
                **deployment["spec"]["template"],
                "spec": {**pod_spec(deployment), "containers": [container]},
            },
        },
    }
    with pytest.raises(AssertionError, match="periodSecond"):
        validate(typo, VERSIONS[-1])
    wrong_type = {**deployment, "spec": {**deployment["spec"], "revisionHistoryLimit": "five"}}
    with pytest.raises(AssertionError, match="revisionHistoryLimit"):
        validate(wrong_type, VERSIONS[-1])
    with pytest.raises(AssertionError, match="Couldn't find schema for kind Deploymnet"):
        validate({**deployment, "kind": "Deploymnet"}, VERSIONS[-1])


def test_the_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == [p.name for p in manifest_files()]


def test_the_pieces_are_there(manifests: dict[tuple[str, str], Manifest]) -> None:
    assert set(manifests) == {
        ("ConfigMap", CONFIG_NAME),
        ("Deployment", "glassshop-api"),
        ("Deployment", "glassshop-worker"),
        ("Job", "glassshop-migrate"),
        ("Service", "glassshop-api"),
        ("HorizontalPodAutoscaler", "glassshop-api"),
        ("PodDisruptionBudget", "glassshop-api"),
    }, "no Secret is kept here: the workloads only refer to one"


def test_one_image_three_commands(manifests: dict[tuple[str, str], Manifest]) -> None:
    images = {c["image"] for doc in workloads(manifests) for c in pod_spec(doc)["containers"]}
    assert len(images) == 1

    def command(kind: str, name: str) -> list[str] | None:
        result: list[str] | None = pod_spec(manifests[(kind, name)])["containers"][0].get("command")
        return result

    assert command("Deployment", "glassshop-api") is None, "the image's default: serve"
    worker = command("Deployment", "glassshop-worker")
    migrate = command("Job", "glassshop-migrate")
    assert worker is not None and parse_cli(worker).command == "worker"
    assert migrate is not None and parse_cli(migrate).command == "migrate"


def test_api_probes_and_ports(manifests: dict[tuple[str, str], Manifest]) -> None:
    (container,) = pod_spec(manifests[("Deployment", "glassshop-api")])["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    # /readyz gives each of its two checks 2 s.
    assert container["readinessProbe"]["timeoutSeconds"] > 4
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    exposed = [int(args) for keyword, args in instructions(DOCKERFILE) if keyword == "EXPOSE"]
    assert ports == {"http": exposed[-1]}


def test_the_service_pdb_and_hpa_point_at_the_api(
    manifests: dict[tuple[str, str], Manifest],
) -> None:
    api = manifests[("Deployment", "glassshop-api")]
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert api["spec"]["selector"]["matchLabels"].items() <= labels.items()
    worker_labels = manifests[("Deployment", "glassshop-worker")]["spec"]["template"]["metadata"][
        "labels"
    ]

    service = manifests[("Service", "glassshop-api")]["spec"]
    assert service["selector"].items() <= labels.items()
    assert not service["selector"].items() <= worker_labels.items()
    assert [p["targetPort"] for p in service["ports"]] == ["http"]

    pdb = manifests[("PodDisruptionBudget", "glassshop-api")]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert not pdb["selector"]["matchLabels"].items() <= worker_labels.items()

    hpa = manifests[("HorizontalPodAutoscaler", "glassshop-api")]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "glassshop-api",
    }
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
    assert hpa["minReplicas"] > pdb["minAvailable"], "a drain must be possible"
    assert "replicas" not in api["spec"], "the HPA owns the API's replica count"


def test_workloads_are_locked_down(manifests: dict[tuple[str, str], Manifest]) -> None:
    user = next(args for keyword, args in instructions(DOCKERFILE) if keyword == "USER")
    for doc in workloads(manifests):
        spec = pod_spec(doc)
        name = doc["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert str(spec["securityContext"]["runAsUser"]) == user.partition(":")[0], name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            resources = container["resources"]
            assert set(resources["requests"]) == {"cpu", "memory"}, name
            assert set(resources["limits"]) == {"cpu", "memory"}, name


def test_settings_come_from_the_configmap_and_the_secret(
    manifests: dict[tuple[str, str], Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = manifests[("ConfigMap", CONFIG_NAME)]["data"]
    known = settings_aliases() | IMAGE_VARIABLES
    assert set(config) <= known, f"unknown settings {sorted(set(config) - known)}"
    for doc in workloads(manifests):
        (container,) = pod_spec(doc)["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": CONFIG_NAME}}]
        env = dict(config)
        for variable in container["env"]:
            ref = variable["valueFrom"]["secretKeyRef"]  # values only ever by reference
            assert ref["name"] == SECRET_NAME and ref["key"] == variable["name"]
            if not ref.get("optional"):
                env[variable["name"]] = {
                    "DATABASE_URL": "postgresql://glassshop:pw@postgres:5432/glassshop",
                    "REDIS_URL": "redis://redis:6379/0",
                    "JWT_SECRET": secrets.token_urlsafe(32),
                }[variable["name"]]
        assert set(env) <= known
        # With the Secret's required keys, every workload passes the production checks.
        settings: Any = load_settings_from(env, monkeypatch)
        assert settings.is_production, doc["metadata"]["name"]
