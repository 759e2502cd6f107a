"""deploy/k8s/: the kustomize base, components and overlays, checked structurally (no cluster here): probes,
resources, a Service and a PodDisruptionBudget per Deployment and for the NATS server, every ConfigMap/Secret
reference resolvable, every setting name known to a service, and the overlays rendered with
`kubectl kustomize` where kubectl is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
JETSTREAM = K8S / "components" / "jetstream"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "gateway": GatewaySettings,
    "dialer": DialerSettings,
    "ari-bridge": AriBridgeSettings,
    "ai-agent": AiAgentSettings,
}
DIALPLANE_PREFIXES = ("DIALPLANE_", *(settings.service_prefix for settings in SETTINGS.values()))
DIALPLANE_STORES = {("ConfigMap", "dialplane-config"), ("Secret", "dialplane-secrets")}
Manifest = dict[str, Any]


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def referenced_files(kustomization: Path) -> list[str]:
    spec = load(kustomization)
    patches = [p["path"] for p in spec.get("patches", []) if "path" in p]
    return [*spec.get("resources", []), *spec.get("components", []), *patches]


def manifests_of(kustomization: Path) -> list[Manifest]:
    """The documents of the kustomization's own files (resources, patches), not of the directories it uses."""
    files = [kustomization.parent / entry for entry in referenced_files(kustomization)]
    return [
        document
        for path in files
        if path.is_file()
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


@pytest.fixture(scope="module")
def base() -> list[Manifest]:
    return manifests_of(BASE / "kustomization.yaml")


@pytest.fixture(scope="module")
def jetstream() -> list[Manifest]:
    return manifests_of(JETSTREAM / "kustomization.yaml")


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def containers(manifests: list[Manifest]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind in ("Deployment", "StatefulSet", "Job"):
        for name, manifest in of_kind(manifests, kind).items():
            for container in manifest["spec"]["template"]["spec"]["containers"]:
                yield name, container


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and selector.items() <= labels.items()


def pod_labels(manifest: Manifest) -> dict[str, str]:
    labels: dict[str, str] = manifest["spec"]["template"]["metadata"]["labels"]
    return labels


def setting_names(manifests: list[Manifest]) -> list[str]:
    """Every key of Dialplane's ConfigMap and Secret, and every container variable with a Dialplane prefix."""
    stores = [
        m for m in manifests if (m["kind"], m["metadata"]["name"]) in DIALPLANE_STORES and "$patch" not in m
    ]
    keys = [key for m in stores for key in {**m.get("data", {}), **m.get("stringData", {})}]
    env = [v["name"] for _, container in containers(manifests) for v in container.get("env", [])]
    return [*keys, *(name for name in env if name.startswith(DIALPLANE_PREFIXES))]


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


def test_components_are_kustomize_components() -> None:
    components = sorted((K8S / "components").glob("*/kustomization.yaml"))
    assert components, "no component found"
    for component in components:
        spec = load(component)
        assert (spec["apiVersion"], spec["kind"]) == ("kustomize.config.k8s.io/v1alpha1", "Component")
        assert "namespace" not in spec, "the overlay that uses the component sets it"


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
    # One pod down at a time: drains proceed, and with two replicas one always serves.
    assert budget["maxUnavailable"] == 1
    assert deployment["spec"]["replicas"] >= 2


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


@pytest.mark.parametrize("kustomization", kustomizations(), ids=lambda p: str(p.parent.relative_to(K8S)))
def test_every_setting_name_belongs_to_a_service(kustomization: Path) -> None:
    names = setting_names(manifests_of(kustomization))
    orphans = [k for k in names if all(unknown_settings(settings, [k]) for settings in SETTINGS.values())]
    assert orphans == []


def set_environment(
    name: str, config: dict[str, str], base: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's environment in its pod: `config` as the ConfigMap, the template's secrets made real."""
    for key, value in config.items():
        monkeypatch.setenv(key, value)
    (container,) = of_kind(base, "Deployment")[name]["spec"]["template"]["spec"]["containers"]
    secrets = of_kind(base, "Secret")["dialplane-secrets"]["stringData"]
    for variable in container.get("env", []):
        value = secrets[variable["valueFrom"]["secretKeyRef"]["key"]]
        monkeypatch.setenv(
            variable["name"], value.replace("change-me", "a-real-secret-0123456789abcdef0123456789")
        )


@pytest.mark.parametrize("name", SETTINGS)
def test_base_config_gives_valid_production_settings(
    name: str, base: list[Manifest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    set_environment(name, of_kind(base, "ConfigMap")["dialplane-config"]["data"], base, monkeypatch)
    settings = SETTINGS[name]()
    assert (settings.environment, settings.event_backend) == ("production", "postgres")


def test_the_secret_template_holds_only_placeholders(base: list[Manifest]) -> None:
    for key, value in of_kind(base, "Secret")["dialplane-secrets"]["stringData"].items():
        assert "change-me" in value, f"{key}: a real-looking secret in the template"
    nodes = json.loads(of_kind(base, "Secret")["dialplane-secrets"]["stringData"]["ARI_BRIDGE_NODES"])
    assert nodes[0]["ari_url"].endswith("/ari")


def test_the_ari_bridges_share_several_nodes(base: list[Manifest]) -> None:
    nodes = json.loads(of_kind(base, "Secret")["dialplane-secrets"]["stringData"]["ARI_BRIDGE_NODES"])
    assert len(nodes) >= 2
    assert len({n["name"] for n in nodes}) == len(nodes)
    entity_ids = [n.get("entity_id") for n in nodes]
    assert None not in entity_ids and len(set(entity_ids)) == len(nodes), "each node its own entity id"
    assert of_kind(base, "Deployment")["ari-bridge"]["spec"]["replicas"] >= 2


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


def test_the_nats_server_keeps_its_store_and_has_probes_and_resources(jetstream: list[Manifest]) -> None:
    (server,) = of_kind(jetstream, "StatefulSet").values()
    (container,) = server["spec"]["template"]["spec"]["containers"]
    args, ports = container["args"], {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["image"].startswith("nats:") and "-js" in args
    monitoring_port = int(args[args.index("-m") + 1])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        assert check["path"].startswith("/healthz") and ports[check["port"]] == monitoring_port, probe
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {claim["metadata"]["name"] for claim in server["spec"]["volumeClaimTemplates"]}
    assert mounts[args[args.index("-sd") + 1]] in claims, "the JetStream store is on the volume"


def test_the_nats_service_budget_and_policy_select_the_server(
    base: list[Manifest], jetstream: list[Manifest]
) -> None:
    (server,) = of_kind(jetstream, "StatefulSet").values()
    labels, (container,) = pod_labels(server), server["spec"]["template"]["spec"]["containers"]
    assert selects(server["spec"]["selector"]["matchLabels"], labels)
    service = of_kind(jetstream, "Service")[server["spec"]["serviceName"]]
    assert selects(service["spec"]["selector"], labels)
    (client,) = service["spec"]["ports"]
    assert client["port"] == 4222 and client["targetPort"] in {p["name"] for p in container["ports"]}
    (budget,) = of_kind(jetstream, "PodDisruptionBudget").values()
    assert selects(budget["spec"]["selector"]["matchLabels"], labels)
    assert budget["spec"]["maxUnavailable"] == 1, "one server: a stricter budget would block every drain"
    (policy,) = of_kind(jetstream, "NetworkPolicy").values()
    assert selects(policy["spec"]["podSelector"]["matchLabels"], labels)
    (rule,) = policy["spec"]["ingress"]
    (source,) = rule["from"]
    clients = [*of_kind(base, "Deployment").values(), *of_kind(base, "Job").values()]
    assert all(selects(source["podSelector"]["matchLabels"], pod_labels(m)) for m in clients)
    assert [p["port"] for p in rule["ports"]] == [client["port"]]


@pytest.mark.parametrize("name", SETTINGS)
def test_the_jetstream_component_points_every_service_at_its_server(
    name: str,
    base: list[Manifest],
    jetstream: list[Manifest],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    config = {
        **of_kind(base, "ConfigMap")["dialplane-config"]["data"],
        **of_kind(jetstream, "ConfigMap")["dialplane-config"]["data"],
    }
    set_environment(name, config, base, monkeypatch)
    settings = SETTINGS[name]()
    assert (settings.environment, settings.event_backend) == ("production", "jetstream")
    url = urlsplit(settings.nats_url)
    (service,) = of_kind(jetstream, "Service").values()
    assert (url.scheme, url.hostname) == ("nats", service["metadata"]["name"])
    assert url.port in {p["port"] for p in service["spec"]["ports"]}


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
    assert (
        of_kind(manifests, "ConfigMap")["dialplane-config"]["data"]["DIALPLANE_EVENT_BACKEND"] == "jetstream"
    )
    assert "nats" in of_kind(manifests, "StatefulSet")
    assert of_kind(manifests, "Deployment")["ari-bridge"]["spec"]["replicas"] >= 2


@needs_kubectl
def test_the_dev_overlay_is_self_contained() -> None:
    manifests = render("dev")
    config = of_kind(manifests, "ConfigMap")["dialplane-config"]["data"]
    assert config["DIALPLANE_ENVIRONMENT"] == "development"
    assert config.get("DIALPLANE_EVENT_BACKEND", "postgres") == "postgres", "no NATS in dev"
    services = set(of_kind(manifests, "Service"))
    assert {"postgres", "asterisk"} <= services and "nats" not in services
    assert all(d["spec"]["replicas"] == 1 for d in of_kind(manifests, "Deployment").values())
    nodes = json.loads(of_kind(manifests, "Secret")["dialplane-secrets"]["stringData"]["ARI_BRIDGE_NODES"])
    assert {urlsplit(n["ari_url"]).hostname for n in nodes} <= services, "every node runs in the overlay"
