#!/usr/bin/env bash
# Make a PostgreSQL server available for Dialplane.
#
#   scripts/ensure-postgres.sh [ensure]        (default)
#   scripts/ensure-postgres.sh stop-if-started
#
# ensure: if DATABASE_URL (or DIALPLANE_DATABASE_URL) is set and answers, use it and do nothing else.
# Otherwise make the local server answer on 127.0.0.1: install it with apt if absent, start the cluster if
# stopped (marking it in $RUN_DIR/postgres.started-by-us), then ensure the role and database dialplane
# (password dialplane, LOGIN CREATEDB) and that password authentication over TCP works for that role.
# stop-if-started: stop the cluster only if the marker says this script started it.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUN_DIR="${RUN_DIR:-.run}"
MARKER="$RUN_DIR/postgres.started-by-us"
ROLE=dialplane
PASSWORD=dialplane
DATABASE=dialplane
export PGCONNECT_TIMEOUT=5

say() { echo "ensure-postgres: $*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [[ $EUID -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else (cd / && sudo -u postgres "$@"); fi
}

apt_install() {
    say "installing $*"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# postgresql+asyncpg://... -> postgresql://... (what libpq understands)
libpq_url() {
    local url="$1"
    echo "${url/#postgresql+*:\/\//postgresql://}"
}

url_host() {
    local rest="${1#*://}"
    rest="${rest##*@}"
    echo "${rest%%[:/?]*}"
}

url_answers() {
    psql "$(libpq_url "$1")" -X -Atqc 'select 1' >/dev/null 2>&1
}

# "<version> <cluster> <port> <status>" of the cluster on port 5432, else of the first one; empty if none.
local_cluster() {
    pg_lsclusters --no-header 2>/dev/null \
        | awk '{ $0 = $1 " " $2 " " $3 " " $4 } $3 == 5432 && !found { found = $0 } NR == 1 { first = $0 }
               END { print (found ? found : first) }'
}

ensure_server_installed() {
    command -v pg_lsclusters >/dev/null && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && return 0
    apt_install postgresql
    INSTALLED_NOW=1
}

ensure_cluster() {
    if [[ -z "$(local_cluster)" ]]; then
        local version
        version="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -1)"
        say "creating cluster $version/main"
        as_root pg_createcluster "$version" main >&2
    fi
}

mark_started() {
    mkdir -p "$RUN_DIR"
    echo "$1 $2 $(date +%s.%N)" >"$MARKER"
}

# Starts the cluster if needed; prints its port.
ensure_running() {
    local version cluster port status
    read -r version cluster port status <<<"$(local_cluster)"
    if [[ $status != online* ]]; then
        say "starting cluster $version/$cluster (port $port)"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >&2
        mark_started "$version" "$cluster"
    elif [[ ${INSTALLED_NOW:-0} == 1 ]]; then
        mark_started "$version" "$cluster"  # apt started it for us
    fi
    echo "$port"
}

wait_ready() {
    local port="$1" _
    for _ in $(seq 60); do
        pg_isready -q -h 127.0.0.1 -p "$port" && return 0
        sleep 0.5
    done
    die "PostgreSQL does not answer on 127.0.0.1:$port after 30 s"
}

admin_sql() {
    as_postgres psql -p "$PORT" -X -Atq -v ON_ERROR_STOP=1 -d postgres -c "$1"
}

ensure_role_and_database() {
    if [[ -z "$(admin_sql "select 1 from pg_roles where rolname = '$ROLE'")" ]]; then
        say "creating role $ROLE"
        admin_sql "create role $ROLE login createdb password '$PASSWORD'"
    fi
    admin_sql "alter role $ROLE login createdb"
    if [[ -z "$(admin_sql "select 1 from pg_database where datname = '$DATABASE'")" ]]; then
        say "creating database $DATABASE"
        admin_sql "create database $DATABASE owner $ROLE"
    fi
}

password_login_works() {
    PGPASSWORD="$PASSWORD" psql -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DATABASE" -X -Atqc 'select 1' \
        >/dev/null 2>&1
}

ensure_password_login() {
    password_login_works && return 0
    say "setting the password of role $ROLE"
    admin_sql "alter role $ROLE password '$PASSWORD'"
    password_login_works && return 0
    local hba
    hba="$(admin_sql 'show hba_file')"
    say "allowing password login for $ROLE on 127.0.0.1 in $hba"
    as_root sed -i "1i host all $ROLE 127.0.0.1/32 scram-sha-256" "$hba"
    admin_sql 'select pg_reload_conf()' >/dev/null
    password_login_works || die "cannot log in as $ROLE with a password on 127.0.0.1:$PORT"
}

ensure() {
    local url="${DATABASE_URL:-${DIALPLANE_DATABASE_URL:-}}"
    if [[ -n $url ]]; then
        command -v psql >/dev/null || apt_install postgresql-client
        url_answers "$url" && return 0
        case "$(url_host "$url")" in
            127.0.0.1 | localhost | "") say "the configured database does not answer; ensuring the local server" ;;
            *) die "the configured database ($(url_host "$url")) does not answer" ;;
        esac
    fi
    ensure_server_installed || die "could not install PostgreSQL"
    ensure_cluster
    PORT="$(ensure_running)"
    wait_ready "$PORT"
    ensure_role_and_database
    ensure_password_login
    if [[ -n $url ]] && ! url_answers "$url"; then
        die "the local server runs, but the configured database URL still does not answer"
    fi
}

stop_if_started() {
    [[ -f $MARKER ]] || return 0
    local version cluster _
    read -r version cluster _ <"$MARKER"
    if pg_lsclusters --no-header 2>/dev/null | awk '{ print $1, $2, $4 }' | grep -qx "$version $cluster online"; then
        say "stopping cluster $version/$cluster (started by ensure-postgres)"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" stop
    fi
    rm -f "$MARKER"
}

case "${1:-ensure}" in
    ensure) ensure ;;
    stop-if-started) stop_if_started ;;
    *) die "usage: $0 [ensure|stop-if-started]" ;;
esac
