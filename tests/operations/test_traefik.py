"""traefik/: the static configuration (HTTPS, redirect, file provider, access logs) and the routers of the
dynamic one: /api to the gateway with an edge rate limit and security headers, /docs and Grafana behind basic
auth, and nothing else reachable (no /metrics, /health, /ready from outside)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "traefik" / "traefik.yml"
DYNAMIC_DIR = ROOT / "traefik" / "dynamic"
TEMPLATE_ACTION = re.compile(r"\{\{\s*env\s+\"([A-Z_][A-Z0-9_]*)\"\s*\}\}")
PATH_MATCHER = re.compile(r"(Path|PathPrefix)\(`([^`]*)`\)")
PUBLIC_API_PATHS = ["/api/v1/calls", "/api/v1/token", "/api/v1/events"]
OPERATOR_PATHS = ["/docs", "/docs/oauth2-redirect", "/openapi.json", "/grafana/", "/grafana/d/calls"]
INTERNAL_PATHS = ["/metrics", "/health", "/ready", "/", "/internal/v1/calls"]


@pytest.fixture(scope="module")
def static() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(STATIC.read_text())
    return loaded


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def dynamic() -> dict[str, Any]:
    """Every dynamic file, rendered as Traefik does (Go template; `env` gives a placeholder here), merged."""
    merged: dict[str, Any] = {"http": {"routers": {}, "middlewares": {}, "services": {}}}
    for path in sorted(DYNAMIC_DIR.glob("*.yml")):
        rendered = TEMPLATE_ACTION.sub(lambda m: f"env-{m.group(1)}", path.read_text())
        assert "{{" not in rendered, f"{path.name}: a template action other than env"
        for section, items in yaml.safe_load(rendered).get("http", {}).items():
            merged["http"][section].update(items)
    return merged


def routes_to(rule: str, path: str) -> bool:
    """Whether a router rule's Path/PathPrefix matchers take `path` (rules here OR their path matchers)."""
    return any(
        path == value if kind == "Path" else path.startswith(value)
        for kind, value in PATH_MATCHER.findall(rule)
    )


def routers_for(dynamic: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [r for r in dynamic["http"]["routers"].values() if routes_to(r["rule"], path)]


def middleware_kinds(dynamic: dict[str, Any], router: dict[str, Any]) -> set[str]:
    definitions = dynamic["http"]["middlewares"]
    return {kind for name in router.get("middlewares", []) for kind in definitions[name]}


def test_http_redirects_to_https(static: dict[str, Any]) -> None:
    web, websecure = static["entryPoints"]["web"], static["entryPoints"]["websecure"]
    assert web["address"] == ":80"
    assert web["http"]["redirections"]["entryPoint"] == {
        "to": "websecure",
        "scheme": "https",
        "permanent": True,
    }
    assert websecure["address"] == ":443"
    assert "tls" in websecure["http"]


def test_static_configuration_loads_the_dynamic_directory_compose_mounts(
    static: dict[str, Any], compose: dict[str, Any]
) -> None:
    volumes = compose["services"]["traefik"]["volumes"]
    mounts = {target: source for source, target, *_ in (str(v).split(":") for v in volumes)}
    assert mounts[static["providers"]["file"]["directory"]] == "./traefik/dynamic"
    assert mounts["/etc/traefik/traefik.yml"] == "./traefik/traefik.yml"


def test_access_logs_are_on_and_drop_credentials(static: dict[str, Any]) -> None:
    headers = static["accessLog"]["fields"]["headers"]
    assert headers["defaultMode"] == "drop"
    assert headers.get("names", {}).get("Authorization", "drop") == "drop"


def test_the_health_check_has_a_ping_entry_point(static: dict[str, Any], compose: dict[str, Any]) -> None:
    assert static["ping"]["entryPoint"] in static["entryPoints"]
    assert compose["services"]["traefik"]["healthcheck"]["test"][1:3] == ["traefik", "healthcheck"]
    assert static.get("api", {}).get("insecure") is not True


def test_every_router_is_https_only(dynamic: dict[str, Any]) -> None:
    for name, router in dynamic["http"]["routers"].items():
        assert router["entryPoints"] == ["websecure"], name
        assert "tls" in router, name


@pytest.mark.parametrize("path", PUBLIC_API_PATHS)
def test_the_api_goes_to_the_gateway_with_rate_limit_and_headers(dynamic: dict[str, Any], path: str) -> None:
    (router,) = routers_for(dynamic, path)
    assert router["service"] == "gateway"
    assert {"rateLimit", "headers"} <= middleware_kinds(dynamic, router)
    assert "basicAuth" not in middleware_kinds(dynamic, router), "the gateway checks the API's tokens itself"


@pytest.mark.parametrize("path", OPERATOR_PATHS)
def test_docs_and_grafana_need_basic_auth(dynamic: dict[str, Any], path: str) -> None:
    routers = routers_for(dynamic, path)
    assert routers, f"{path} is not routed"
    for router in routers:
        assert "basicAuth" in middleware_kinds(dynamic, router), path


@pytest.mark.parametrize("path", INTERNAL_PATHS)
def test_internal_paths_are_not_routed(dynamic: dict[str, Any], path: str) -> None:
    assert routers_for(dynamic, path) == []


def test_basic_auth_users_come_from_the_environment(dynamic: dict[str, Any], compose: dict[str, Any]) -> None:
    traefik_env = compose["services"]["traefik"]["environment"]
    for name, middleware in dynamic["http"]["middlewares"].items():
        if "basicAuth" in middleware:
            users = middleware["basicAuth"]["users"]
            assert all(u.startswith("env-") for u in users), (
                f"{name}: credentials committed to the repository"
            )
            assert all(u.removeprefix("env-") in traefik_env for u in users), name
            assert middleware["basicAuth"]["removeHeader"] is True, "Grafana would reject the Basic header"


def test_services_are_reachable_from_traefik(dynamic: dict[str, Any], compose: dict[str, Any]) -> None:
    services = compose["services"]
    traefik_networks = set(services["traefik"]["networks"])
    for name, service in dynamic["http"]["services"].items():
        for server in service["loadBalancer"]["servers"]:
            url = re.fullmatch(r"http://([a-z-]+):(\d+)", server["url"])
            assert url, f"{name}: {server['url']} is not http://SERVICE:PORT"
            host, port = url.groups()
            assert traefik_networks & set(services[host]["networks"]), (
                f"{name}: {host} not on Traefik's network"
            )
            assert f":{port}/" in str(services[host]["healthcheck"]["test"]), (
                f"{name}: {host} listens elsewhere"
            )


def test_routers_name_defined_services_and_middlewares(dynamic: dict[str, Any]) -> None:
    http = dynamic["http"]
    for name, router in http["routers"].items():
        assert router["service"] in http["services"], name
        assert set(router.get("middlewares", [])) <= set(http["middlewares"]), name
