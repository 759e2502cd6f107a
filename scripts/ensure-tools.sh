#!/usr/bin/env bash
# Install what the project needs and is missing (uv, a few Debian packages), then sync the workspace.
# Idempotent; prints nothing when everything is already there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=python3.11
export UV_PYTHON="${UV_PYTHON:-${PYTHON}}" UV_PYTHON_DOWNLOADS=never UV_LINK_MODE="${UV_LINK_MODE:-copy}"

# debootstrap: the local Asterisk chroot; espeak-ng + sox: test audio; postgresql-client: psql, pg_isready.
DEBIAN_PACKAGES=(debootstrap espeak-ng sox curl ca-certificates postgresql-client)
DEBIAN_PACKAGES+=(sip-tester) # sipp: SIP user agents behind the PJSIP test trunks (dialplane.testing.sipp)
# prometheus: promtool (check config/rules, rule unit tests) and the server the operations tests start on a
# free port; its own daemon (:9090, started by systemd where there is one) is not used by the project.
DEBIAN_PACKAGES+=(prometheus)
# docker-compose: `docker-compose config` validates docker-compose.yml (tests/operations; no engine needed).
DEBIAN_PACKAGES+=(docker-compose)
# iptables: the network-fault tests drop packets to a port for a while (tests/faults; skipped without root).
DEBIAN_PACKAGES+=(iptables)
# nats-server: the event-stream contract tests start a private JetStream server (services/tests/events).
DEBIAN_PACKAGES+=(nats-server)

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
    local pkg
    for pkg in "${DEBIAN_PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
            echo "$pkg"
        fi
    done
}

ensure_debian_packages() {
    local missing
    mapfile -t missing < <(missing_packages)
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "ensure-tools: installing ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_uv() {
    command -v uv >/dev/null && return 0
    echo "ensure-tools: installing uv with pip ($PYTHON)" >&2
    "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
    if command -v pyenv >/dev/null; then pyenv rehash; fi
    command -v uv >/dev/null && return 0
    # pip put uv next to an interpreter that is not on PATH: link it where PATH looks.
    local bin
    bin="$("$PYTHON" -c 'import uv; print(uv.find_uv_bin())')"
    as_root ln -sf "$bin" /usr/local/bin/uv
}

ensure_debian_packages
ensure_uv
uv sync --frozen --all-packages --quiet
