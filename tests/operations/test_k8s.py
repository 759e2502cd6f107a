"""deploy/k8s/: the kustomize base and overlays, checked structurally (no cluster here): probes, resources,
a Service and a PodDisruptionBudget per Deployment, every ConfigMap/Secret reference resolvable, every setting
name known to the service, and the overlays rendered with `kubectl kustomize` where kubectl is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ai_agent.settings import Settings as AiAgentSettings
from ari_bridge.settings import Settings as AriBridgeSettings
from dialer.settings import Settings as DialerSettings
from dialplane.settings import ServiceSettings
from gateway.settings import Settings as GatewaySettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "gateway": GatewaySettings,
    "dialer": DialerSettings,
    "ari-bridge": AriBridgeSettings,
    "ai-agent": AiAgentSettings,
}
Manifest = dict[str, Any]


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def referenced_files(kustomization: Path) -> list[str]:
    spec = load(kustomization)
    patches = [p["path"] for p in spec.get("patches", []) if "path" in p]
    return [*spec.get("resources", []), *patches]


@pytest.fixture(scope="module")
def base() -> list[Manifest]:
    return [
        document
        for name in load(BASE / "kustomization.yaml")["resources"]
        for document in yaml.safe_load_all((BASE / name).read_text())
    ]


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def containers(manifests: list[Manifest]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind in ("Deployment", "Job"):
        for name, manifest in of_kind(manifests, kind).items():
            for container in manifest["spec"]["template"]["spec"]["containers"]:
                yield name, container


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and selector.items() <= labels.items()


def unknown_settings(settings: type[ServiceSettings], names: list[str]) -> list[str]:
    """Names the service would silently ignore: no `<SERVICE>_` or `DIALPLANE_` prefix plus a field."""
    prefixes = (settings.service_prefix, "DIALPLANE_")
    return [
        name
        for name in names
        if not any(name.startswith(p) and name[len(p) :].lower() in settings.model_fields for p in prefixes)
    ]


@pytest.mark.parametrize("kustomization", kustomizations(), ids=lambda p: str(p.parent.relative_to(K8S)))
def test_kustomizations_list_only_existing_files(kustomization: Path) -> None:
    for entry in referenced_files(kustomization):
        target = kustomization.parent / entry
        assert target.is_file() or (target / "kustomization.yaml").is_file(), f"{entry} does not exist"


@pytest.mark.parametrize("kustomization", kustomizations(), ids=lambda p: str(p.parent.relative_to(K8S)))
def test_every_manifest_file_is_used(kustomization: Path) -> None:
    listed = set(referenced_files(kustomization))
    unused = [
        p.name for p in kustomization.parent.glob("*.yaml") if p.name not in listed | {kustomization.name}
    ]
    assert unused == []


def test_every_deployment_has_probes_and_resources(base: list[Manifest]) -> None:
    deployments = of_kind(base, "Deployment")
    assert set(deployments) == set(SETTINGS)
    for name, container in containers(base):
        if name not in deployments:
            continue
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/health", name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert "memory" in container["resources"]["limits"], name


@pytest.mark.parametrize("name", SETTINGS)
def test_probes_and_service_reach_the_port_the_service_listens_on(name: str, base: list[Manifest]) -> None:
    deployment = of_kind(base, "Deployment")[name]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports[container["readinessProbe"]["httpGet"]["port"]] == SETTINGS[name].default_port
    (service_port,) = of_kind(base, "Service")[name]["spec"]["ports"]
    assert service_port["targetPort"] in ports
    assert service_port["port"] == ports[service_port["targetPort"]], "other services call it on its own port"


@pytest.mark.parametrize("name", SETTINGS)
def test_every_deployment_has_a_matching_service_and_disruption_budget(
    name: str, base: list[Manifest]
) -> None:
    deployment = of_kind(base, "Deployment")[name]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(deployment["spec"]["selector"]["matchLabels"], labels)
    assert selects(of_kind(base, "Service")[name]["spec"]["selector"], labels)
    budget = of_kind(base, "PodDisruptionBudget")[name]["spec"]
    assert selects(budget["selector"]["matchLabels"], labels)
    assert deployment["spec"]["replicas"] >= 1


def test_config_and_secret_references_exist(base: list[Manifest]) -> None:
    config_maps, secrets = of_kind(base, "ConfigMap"), of_kind(base, "Secret")
    for name, container in containers(base):
        for source in container.get("envFrom", []):
            assert source["configMapRef"]["name"] in config_maps, name
        for variable in container.get("env", []):
            ref = variable.get("valueFrom", {})
            if "secretKeyRef" in ref:
                assert ref["secretKeyRef"]["key"] in secrets[ref["secretKeyRef"]["name"]]["stringData"], name
            if "configMapKeyRef" in ref:
                assert ref["configMapKeyRef"]["key"] in config_maps[ref["configMapKeyRef"]["name"]]["data"], (
                    name
                )


@pytest.mark.parametrize("name", SETTINGS)
def test_setting_names_exist_in_the_service(name: str, base: list[Manifest]) -> None:
    (container,) = of_kind(base, "Deployment")[name]["spec"]["template"]["spec"]["containers"]
    prefixes = ("DIALPLANE_", SETTINGS[name].service_prefix)
    config = [k for k in of_kind(base, "ConfigMap")["dialplane-config"]["data"] if k.startswith(prefixes)]
    names = [*config, *(v["name"] for v in container.get("env", []))]
    assert unknown_settings(SETTINGS[name], names) == []


def test_every_config_key_belongs_to_a_service(base: list[Manifest]) -> None:
    keys = [
        *of_kind(base, "ConfigMap")["dialplane-config"]["data"],
        *of_kind(base, "Secret")["dialplane-secrets"]["stringData"],
    ]
    orphans = [k for k in keys if all(unknown_settings(settings, [k]) for settings in SETTINGS.values())]
    assert orphans == []


@pytest.mark.parametrize("name", SETTINGS)
def test_base_config_gives_valid_production_settings(
    name: str, base: list[Manifest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for key, value in of_kind(base, "ConfigMap")["dialplane-config"]["data"].items():
        monkeypatch.setenv(key, value)
    (container,) = of_kind(base, "Deployment")[name]["spec"]["template"]["spec"]["containers"]
    secrets = of_kind(base, "Secret")["dialplane-secrets"]["stringData"]
    for variable in container.get("env", []):
        value = secrets[variable["valueFrom"]["secretKeyRef"]["key"]]
        monkeypatch.setenv(
            variable["name"], value.replace("change-me", "a-real-secret-0123456789abcdef0123456789")
        )
    assert SETTINGS[name]().environment == "production"


def test_the_secret_template_holds_only_placeholders(base: list[Manifest]) -> None:
    for key, value in of_kind(base, "Secret")["dialplane-secrets"]["stringData"].items():
        assert "change-me" in value, f"{key}: a real-looking secret in the template"
    nodes = json.loads(of_kind(base, "Secret")["dialplane-secrets"]["stringData"]["ARI_BRIDGE_NODES"])
    assert nodes[0]["ari_url"].endswith("/ari")


def test_the_migration_job_upgrades_the_database(base: list[Manifest]) -> None:
    (job,) = of_kind(base, "Job").values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["dialplane", "db", "upgrade"]
    assert (
        container["image"]
        == of_kind(base, "Deployment")["gateway"]["spec"]["template"]["spec"]["containers"][0]["image"]
    )
    assert "DIALPLANE_DATABASE_URL" in {v["name"] for v in container["env"]}


def test_the_ingress_sends_the_api_to_the_gateway_with_limits(base: list[Manifest]) -> None:
    middlewares = of_kind(base, "Middleware")
    (route,) = of_kind(base, "IngressRoute")["gateway"]["spec"]["routes"]
    assert route["match"] == "PathPrefix(`/api`)"
    assert route["services"] == [{"name": "gateway", "port": 8000}]
    kinds = {kind for m in route["middlewares"] for kind in middlewares[m["name"]]["spec"]}
    assert {"rateLimit", "headers"} <= kinds


def render(overlay: str) -> list[Manifest]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(result.stdout))


needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


@needs_kubectl
def test_the_production_overlay_never_applies_the_secret_template() -> None:
    manifests = render("production")
    assert of_kind(manifests, "Secret") == {}
    assert {m["metadata"].get("namespace") for m in manifests if m["kind"] != "Namespace"} == {"dialplane"}
    assert "certResolver" in of_kind(manifests, "IngressRoute")["gateway"]["spec"]["tls"]


@needs_kubectl
def test_the_dev_overlay_is_self_contained() -> None:
    manifests = render("dev")
    assert (
        of_kind(manifests, "ConfigMap")["dialplane-config"]["data"]["DIALPLANE_ENVIRONMENT"] == "development"
    )
    assert {"postgres", "asterisk"} <= set(of_kind(manifests, "Service"))
    assert all(d["spec"]["replicas"] == 1 for d in of_kind(manifests, "Deployment").values())
