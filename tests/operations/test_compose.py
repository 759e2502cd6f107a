"""docker-compose.yml, the service Dockerfiles, .dockerignore and .env.example, checked structurally (no
Docker engine runs here): health checks, what is published, start order, every variable documented, every
setting name known to the service that reads it, and each image built from its own package."""

from __future__ import annotations

import re
import shutil
import subprocess
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
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

# compose service -> (workspace package, import name, settings class)
PYTHON_SERVICES: dict[str, tuple[str, str, type[ServiceSettings]]] = {
    "gateway": ("dialplane-gateway", "gateway", GatewaySettings),
    "dialer": ("dialplane-dialer", "dialer", DialerSettings),
    "ari-bridge": ("dialplane-ari-bridge", "ari_bridge", AriBridgeSettings),
    "ai-agent": ("dialplane-ai-agent", "ai_agent", AiAgentSettings),
}
# PostgreSQL, the services, Asterisk's HTTP (ARI, media, metrics), Prometheus, Grafana, Traefik's ping/metrics
INTERNAL_PORTS = {5432, 8000, 8001, 8002, 8003, 8088, 9090, 3000, 8082}
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "OPS_USER")
Services = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


@pytest.fixture(scope="module")
def compose_services(compose: dict[str, Any]) -> Services:
    found: Services = compose["services"]
    return found


def env_example() -> dict[str, str]:
    pairs = (
        line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z_0-9]+=", line)
    )
    return dict(pairs)


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}, as `docker compose` fills them in."""

    def one(match: re.Match[str]) -> str:
        name, operator, default = match.groups()
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise ValueError(f"{name} is required: {default}")
        return default or ""

    return VARIABLE.sub(one, value).replace("$$", "$")


def filled_env() -> dict[str, str]:
    """.env.example with every empty value (the secrets an operator must set) filled with a strong one."""
    return {
        name: value or f"{name.lower()}-0123456789abcdef0123456789abcdef"
        for name, value in env_example().items()
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    given = service.get("environment", {})
    assert isinstance(given, dict), "environment must be a mapping (NAME: value)"
    return {name: str(value) for name, value in given.items()}


def unknown_settings(settings: type[ServiceSettings], names: list[str]) -> list[str]:
    """Names that the service would silently ignore: no `<SERVICE>_` or `DIALPLANE_` prefix plus a field."""
    prefixes = (settings.service_prefix, "DIALPLANE_")
    return [
        name
        for name in names
        if not any(name.startswith(p) and name[len(p) :].lower() in settings.model_fields for p in prefixes)
    ]


def long_running(compose_services: Services) -> Services:
    return {name: s for name, s in compose_services.items() if s.get("restart") != "no"}


def test_every_long_running_service_has_a_health_check(compose_services: Services) -> None:
    missing = [
        name
        for name, service in long_running(compose_services).items()
        if not service.get("healthcheck", {}).get("test") or service["healthcheck"].get("disable")
    ]
    assert missing == []
    assert set(PYTHON_SERVICES) | {"traefik", "postgres", "asterisk", "prometheus", "grafana"} <= set(
        compose_services
    )


def test_only_traefik_publishes_ports(compose_services: Services) -> None:
    publishing = {name for name, service in compose_services.items() if service.get("ports")}
    assert publishing == {"traefik"}
    assert [name for name, service in compose_services.items() if service.get("network_mode") == "host"] == []


def test_no_internal_port_is_published(compose_services: Services) -> None:
    env = filled_env()
    for service in compose_services.values():
        for spec in service.get("ports", []):
            parts = [int(p.split("/")[0]) for p in interpolate(str(spec), env).split(":")[-2:]]
            assert not INTERNAL_PORTS & set(parts), f"internal port published: {spec}"
            assert parts[-1] in {80, 443}, f"only Traefik's HTTP and HTTPS entry points: {spec}"


def test_every_variable_is_in_env_example() -> None:
    referenced = {match.group(1) for match in VARIABLE.finditer(COMPOSE_FILE.read_text())}
    assert referenced - set(env_example()) == set()


def test_secrets_have_no_default_and_no_example_value() -> None:
    example = env_example()
    for name, operator, _ in VARIABLE.findall(COMPOSE_FILE.read_text()):
        if any(word in name for word in SECRET_WORDS):
            assert operator in ("", ":?"), f"{name} must not have a default"
            assert example[name] == "", f".env.example must not ship a value for {name}"
    assert any(operator == ":?" for _, operator, _ in VARIABLE.findall(COMPOSE_FILE.read_text()))


def test_build_contexts_and_dockerfiles_exist(compose_services: Services) -> None:
    for name, service in compose_services.items():
        if "build" in service:
            context = ROOT / service["build"]["context"]
            assert context.is_dir(), name
            assert (context / service["build"].get("dockerfile", "Dockerfile")).is_file(), name


@pytest.mark.parametrize("name", PYTHON_SERVICES)
def test_each_service_image_installs_its_own_package(name: str, compose_services: Services) -> None:
    package, module, _ = PYTHON_SERVICES[name]
    assert compose_services[name]["build"] == {"context": ".", "dockerfile": f"{name}/Dockerfile"}
    text = (ROOT / name / "Dockerfile").read_text()
    assert set(re.findall(r"--package (\S+)", text)) == {package}
    assert f"COPY {name}/ {name}/" in text
    assert f'CMD ["python", "-m", "{module}"]' in text
    # the dependency layer (uv.lock, pyprojects) is built before any source is copied
    assert text.index("--no-install-workspace") < text.index("COPY services/ services/")


def test_the_ai_agent_image_has_espeak_ng() -> None:
    assert re.search(r"apt-get install[^\n]*espeak-ng", (ROOT / "ai-agent" / "Dockerfile").read_text())


def test_dockerignore_keeps_what_the_images_copy() -> None:
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".env", "**/.venv"} <= ignored
    for name in PYTHON_SERVICES:
        text = (ROOT / name / "Dockerfile").read_text()
        for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.MULTILINE):
            assert source.split("/")[0] not in ignored, f"{name}/Dockerfile copies {source}, which is ignored"


def test_migrations_run_once_before_the_services(compose_services: Services) -> None:
    migrate = compose_services["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["command"] == ["dialplane", "db", "upgrade"]
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in PYTHON_SERVICES:
        assert compose_services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_dependencies_wait_for_health(compose_services: Services) -> None:
    for name, service in compose_services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in compose_services, f"{name} depends on unknown {target}"
            wanted = "service_completed_successfully" if target == "migrate" else "service_healthy"
            assert condition == {"condition": wanted}, f"{name} -> {target}"


@pytest.mark.parametrize("name", PYTHON_SERVICES)
def test_service_settings_names_exist(name: str, compose_services: Services) -> None:
    settings = PYTHON_SERVICES[name][2]
    assert unknown_settings(settings, list(environment(compose_services[name]))) == []


@pytest.mark.parametrize("name", PYTHON_SERVICES)
def test_service_environment_gives_valid_production_settings(
    name: str, compose_services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    env = filled_env()
    for key, value in environment(compose_services[name]).items():
        monkeypatch.setenv(key, interpolate(value, env))
    settings = PYTHON_SERVICES[name][2]()
    assert settings.environment == "production"
    assert settings.host == "0.0.0.0"


def test_the_migration_settings_reach_the_database(compose_services: Services) -> None:
    env = filled_env()
    migrate_url = interpolate(environment(compose_services["migrate"])["DIALPLANE_DATABASE_URL"], env)
    assert migrate_url.startswith("postgresql://dialplane:") and "@postgres:5432/dialplane" in migrate_url


def test_asterisk_environment_is_read_by_its_scripts(compose_services: Services) -> None:
    scripts = "".join(p.read_text() for p in (ROOT / "asterisk").glob("*.sh"))
    for name in environment(compose_services["asterisk"]):
        assert name in scripts, f"asterisk/*.sh never reads {name}"


def test_bind_mounts_exist(compose_services: Services) -> None:
    for name, service in compose_services.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_prometheus_scrapes_the_compose_services(compose_services: Services) -> None:
    mounts = dict(str(v).split(":")[1::-1] for v in compose_services["prometheus"]["volumes"])
    config = yaml.safe_load((ROOT / mounts["/etc/prometheus/prometheus.yml"]).read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    wanted = {"gateway:8000", "dialer:8001", "ari-bridge:8002", "ai-agent:8003", "asterisk:8088"}
    assert wanted - targets == set()


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose (Debian) is not installed")
def test_docker_compose_accepts_the_file(compose: dict[str, Any], tmp_path: Path) -> None:
    """docker-compose 1.29 (Debian's) validates against the compose schema; it predates the `name` key."""
    without_name = {key: value for key, value in compose.items() if key != "name"}
    (tmp_path / "compose.yml").write_text(yaml.safe_dump(without_name))
    (tmp_path / "env").write_text("".join(f"{k}='{v}'\n" for k, v in filled_env().items()))
    command = ["docker-compose", "-f", str(tmp_path / "compose.yml"), "--project-directory", str(ROOT)]
    result = subprocess.run(
        [*command, "--env-file", str(tmp_path / "env"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
