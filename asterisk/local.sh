#!/usr/bin/env bash
# Run Dialplane's Asterisk 22 locally without Docker: a Debian sid root filesystem built with debootstrap,
# run with chroot on the host's network (Debian 12 has no asterisk package; sid has Asterisk 22).
#
# usage: asterisk/local.sh provision|start|stop|restart|crash|reload|status|wait-ready|cli "COMMAND"
#
#   provision   build the root filesystem if it is missing (host packages: debootstrap espeak-ng sox curl)
#   start       provision, install conf/ and the test-carrier voices, start Asterisk, wait until ARI answers
#   stop        stop Asterisk and unmount the chroot's /proc and /dev
#   crash       kill Asterisk with SIGKILL (no hangup events reach ARI clients), then clean up as stop does
#   reload      install conf/ and the voices again and reload them into the running Asterisk
#   status      exit 0 and print version and channel count when running, exit 3 when stopped
#   wait-ready  wait until ARI answers (ASTERISK_READY_TIMEOUT seconds, default 60)
#   cli         run one Asterisk CLI command, e.g. cli "core show channels"
#
# Environment: DIALPLANE_CACHE_DIR (default /var/cache/dialplane), DEBIAN_MIRROR, ASTERISK_HTTP_PORT (8088),
# ASTERISK_SIP_PORT (5060), ASTERISK_BIND_ADDRESS (127.0.0.1), ASTERISK_ARI_USERNAME / ASTERISK_ARI_PASSWORD
# (dialplane / dialplane), ASTERISK_ARI_APP (dialplane), ASTERISK_ENTITY_ID (02:00:00:00:00:01),
# ASTERISK_IDENTIFICATION_MESSAGE (the abandoned-call message; default: voices/identification.txt).
#
# Several nodes on one machine: ASTERISK_INSTANCE=N (1 to 9, default 1) runs another Asterisk from the same
# root filesystem with its own configuration (/etc/asterisk-N), run, log, spool and database directories,
# ports 100 * (N - 1) above the defaults (HTTP 8188, SIP 5160 for N=2), RTP ports 10000*N to 10000*N+9999
# and entity id 02:00:00:00:00:0N. Each command acts on its instance only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly here
# Canonical, because it is compared with the kernel's /proc/PID/root.
cache_dir="$(readlink -m "${DIALPLANE_CACHE_DIR:-/var/cache/dialplane}")"
readonly cache_dir
readonly root="$cache_dir/asterisk-sid"
readonly partial_root="$root.partial"
readonly lock_file="$cache_dir/asterisk.lock"
readonly mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly instance="${ASTERISK_INSTANCE:-1}"
[[ "$instance" =~ ^[1-9]$ ]] || { echo "asterisk: error: ASTERISK_INSTANCE must be 1 to 9" >&2; exit 2; }
if ((instance == 1)); then suffix=""; else suffix="-$instance"; fi
readonly suffix
readonly console_log="$cache_dir/asterisk$suffix-console.log"
readonly http_port="${ASTERISK_HTTP_PORT:-$((8088 + 100 * (instance - 1)))}"
readonly sip_port="${ASTERISK_SIP_PORT:-$((5060 + 100 * (instance - 1)))}"
readonly entity_id="${ASTERISK_ENTITY_ID:-02:00:00:00:00:0$instance}"
# Paths inside the root filesystem. Instance 1 uses the package's compiled-in ones.
readonly etc_dir="/etc/asterisk$suffix"
readonly run_dir="/run/asterisk$suffix"
readonly log_dir="/var/log/asterisk$suffix"
readonly spool_dir="/var/spool/asterisk$suffix"
readonly db_dir="/var/lib/asterisk$suffix"
if ((instance == 1)); then config_args=(); else config_args=(-C "$etc_dir/asterisk.conf"); fi
readonly config_args
readonly bind_address="${ASTERISK_BIND_ADDRESS:-127.0.0.1}"
readonly ari_username="${ASTERISK_ARI_USERNAME:-dialplane}"
readonly ari_password="${ASTERISK_ARI_PASSWORD:-dialplane}"
readonly ari_app="${ASTERISK_ARI_APP:-dialplane}"
readonly ready_timeout="${ASTERISK_READY_TIMEOUT:-60}"
readonly host_packages=(debootstrap espeak-ng sox curl)
readonly voices_dir="/var/lib/asterisk/sounds/dialplane"

say() { echo "asterisk: $*"; }
die() {
    echo "asterisk: error: $*" >&2
    exit 1
}

ari_host() {
    if [[ "$bind_address" == "0.0.0.0" ]]; then echo 127.0.0.1; else echo "$bind_address"; fi
}

ari_url() { echo "http://$(ari_host):$http_port/ari"; }

# --- locking --------------------------------------------------------------------------------------------

# Serialise provision/start/stop. Asterisk itself is started with fd 9 closed, so it never holds the lock.
take_lock() {
    mkdir -p "$cache_dir"
    exec 9>"$lock_file"
    flock 9
}

# --- host packages and root filesystem ------------------------------------------------------------------

missing_host_packages() {
    local package
    for package in "${host_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || echo "$package"
    done
}

ensure_host_packages() {
    local missing
    mapfile -t missing < <(missing_host_packages)
    [[ ${#missing[@]} -eq 0 ]] && return 0
    say "installing host packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
        || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}

is_provisioned() { [[ -x "$root/usr/sbin/asterisk" ]]; }

# Mount points at or below $1, deepest first.
mounts_below() {
    awk -v dir="$1" '$2 == dir || index($2, dir "/") == 1 { print $2 }' /proc/mounts | sort -r
}

unmount_below() {
    local point
    while read -r point; do
        umount "$point" 2>/dev/null || umount -l "$point"
    done < <(mounts_below "$1")
}

discard_partial_root() {
    [[ -e "$partial_root" ]] || return 0
    say "removing an unfinished root filesystem at $partial_root"
    unmount_below "$partial_root"
    rm -rf --one-file-system "$partial_root"
}

build_root() {
    local started=$SECONDS
    say "building a Debian sid root filesystem with Asterisk in $root (about a minute)"
    discard_partial_root
    debootstrap --variant=minbase --include=asterisk,asterisk-core-sounds-en sid "$partial_root" "$mirror" \
        >"$cache_dir/debootstrap.log" 2>&1 || {
        tail -n 20 "$cache_dir/debootstrap.log" >&2
        die "debootstrap failed (full log: $cache_dir/debootstrap.log)"
    }
    unmount_below "$partial_root"
    [[ -x "$partial_root/usr/sbin/asterisk" ]] || die "debootstrap finished but $partial_root has no asterisk"
    mv "$partial_root" "$root"
    say "root filesystem ready in $((SECONDS - started)) s"
}

provision() {
    ensure_host_packages
    is_provisioned || build_root
}

# --- installing configuration and voices ----------------------------------------------------------------

# Directories Asterisk writes to. /run, not /var/run: the latter is a symlink to the host's /run.
prepare_var_dirs() {
    local dir
    for dir in var/lib/asterisk "$db_dir" "$log_dir" "$spool_dir" "$spool_dir/recording" var/cache/asterisk \
        "$run_dir"; do
        mkdir -p "${root:?}/$dir"
        chmod -R a+rwX "$root/$dir"
    done
}

install_config() {
    if ((instance > 1)); then
        mkdir -p "$root$etc_dir"
        cp -a "$root/etc/asterisk/." "$root$etc_dir/"  # the package's files; ours are rendered over them
    fi
    ASTERISK_HTTP_PORT="$http_port" ASTERISK_SIP_PORT="$sip_port" ASTERISK_ENTITY_ID="$entity_id" \
        ASTERISK_RTP_START=$((10000 * instance)) ASTERISK_RTP_END=$((10000 * instance + 9999)) \
        "$here/render-conf.sh" "$root$etc_dir"
    if ((instance > 1)); then
        printf '%s\n' "" "[directories]" "astetcdir => $etc_dir" "astrundir => $run_dir" \
            "astlogdir => $log_dir" "astspooldir => $spool_dir" "astdbdir => $db_dir" >>"$root$etc_dir/asterisk.conf"
    fi
    prepare_var_dirs
    "$here/render-voices.sh" "$root$voices_dir" >/dev/null
}

# --- processes and mounts -------------------------------------------------------------------------------

# The Asterisk daemon's pid, if it is running inside our root filesystem.
daemon_pid() {
    local pid
    pid="$(cat "$root$run_dir/asterisk.pid" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(readlink "/proc/$pid/root" 2>/dev/null)" == "$root" ]] || return 1
    echo "$pid"
}

is_running() { daemon_pid >/dev/null; }

# Asterisk processes whose root directory is our root filesystem (every instance's): daemons, stuck consoles.
root_asterisk_pids() {
    local proc
    for proc in /proc/[0-9]*; do
        [[ "$(readlink "$proc/root" 2>/dev/null)" == "$root" && "$(cat "$proc/comm" 2>/dev/null)" == asterisk ]] \
            && basename "$proc"
    done
    return 0
}

# Those of this instance: instance 1's run without -C, the others' with their own asterisk.conf.
chroot_asterisk_pids() {
    local pid args
    for pid in $(root_asterisk_pids); do
        args="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || continue
        if ((instance == 1)); then
            [[ "$args" != *" -C "* ]] && echo "$pid"
        else
            [[ "$args" == *" -C $etc_dir/asterisk.conf "* ]] && echo "$pid"
        fi
    done
    return 0
}

mount_chroot_fs() {
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
}

# Only once no instance runs from the root filesystem any more.
unmount_chroot_fs() {
    local point
    [[ -z "$(root_asterisk_pids)" ]] || return 0
    for point in "$root/dev" "$root/proc"; do
        if mountpoint -q "$point"; then umount "$point" 2>/dev/null || umount -l "$point"; fi
    done
}

# Start the daemon in its own session; sets launched_pid.
launch() {
    rm -f "$root$run_dir/asterisk.pid"
    echo "--- $(date -Is) start" >>"$console_log"
    setsid chroot "$root" /usr/sbin/asterisk "${config_args[@]}" -f -n -U root -G root </dev/null \
        >>"$console_log" 2>&1 9>&- &
    launched_pid=$!
}

# True while the process exists and is not a zombie.
process_alive() {
    local state
    state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" && [[ "$state" != Z ]]
}

cli() { chroot "$root" /usr/sbin/asterisk "${config_args[@]}" -rx "$*"; }

# --- readiness ------------------------------------------------------------------------------------------

ari_info() {
    curl -fsS --max-time 2 -u "$ari_username:$ari_password" "$(ari_url)/asterisk/info" 2>/dev/null
}

asterisk_version() {
    ari_info | grep -o '"version":"[^"]*"' | head -n 1 | cut -d'"' -f4 | sed 's/[+~].*//'
}

show_logs() {
    echo "--- last lines of $console_log:" >&2
    tail -n 20 "$console_log" >&2 || true
    echo "--- last lines of $root$log_dir/messages.log:" >&2
    tail -n 20 "$root$log_dir/messages.log" >&2 || true
}

# wait_ready [PID]: until ARI answers; fails (showing the logs) after the timeout or as soon as PID exits.
wait_ready() {
    local pid="${1:-}" deadline=$((SECONDS + ready_timeout))
    until ari_info >/dev/null; do
        if [[ -n "$pid" ]] && ! process_alive "$pid"; then
            show_logs
            echo "asterisk: error: Asterisk exited during start" >&2
            return 1
        fi
        if ((SECONDS >= deadline)); then
            show_logs
            echo "asterisk: error: ARI did not answer at $(ari_url) within $ready_timeout s" >&2
            return 1
        fi
        sleep 0.2
    done
}

ready_line() {
    echo "Asterisk $(asterisk_version) ready: ARI $(ari_url) (app $ari_app)," \
        "SIP udp $bind_address:$sip_port, metrics http://$(ari_host):$http_port/metrics"
}

# --- commands -------------------------------------------------------------------------------------------

start() {
    if is_running; then
        say "already running (pid $(daemon_pid))"
        wait_ready || exit 1
        ready_line
        return 0
    fi
    local started=$SECONDS
    provision
    install_config
    mount_chroot_fs
    launch
    if ! wait_ready "$launched_pid"; then
        stop >/dev/null
        die "start failed; Asterisk stopped again"
    fi
    ready_line
    say "started in $((SECONDS - started)) s; logs: $console_log, $root$log_dir/messages.log"
}

wait_for_exit() {
    local pid="$1" tries="$2"
    while kill -0 "$pid" 2>/dev/null && ((tries-- > 0)); do sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null
}

end_process() {
    local pid="$1"
    kill -TERM "$pid" 2>/dev/null || return 0
    wait_for_exit "$pid" 50 || kill -KILL "$pid" 2>/dev/null || true
    wait_for_exit "$pid" 20 || true
}

stop() {
    local pid
    if pid="$(daemon_pid)"; then
        timeout 10 chroot "$root" /usr/sbin/asterisk "${config_args[@]}" -rx "core stop now" >/dev/null 2>&1 || true
        wait_for_exit "$pid" 100 || end_process "$pid"
        say "stopped (pid $pid)"
    else
        say "not running"
    fi
    for pid in $(chroot_asterisk_pids); do end_process "$pid"; done
    unmount_chroot_fs
}

# Fault tests: the daemon dies without a shutdown, so no hangup events reach ARI clients.
crash() {
    local pid
    pid="$(daemon_pid)" || die "not running"
    kill -KILL "$pid"
    wait_for_exit "$pid" 50 || true
    say "killed (pid $pid) without a shutdown"
    stop >/dev/null
}

reload() {
    is_running || die "not running"
    install_config
    cli "core reload" >/dev/null
    say "configuration reloaded (http.conf and modules.conf changes need a restart)"
}

status() {
    if ! is_running; then
        say "stopped"
        exit 3
    fi
    say "running (pid $(daemon_pid)): $(cli "core show version" | head -n 1)"
    say "$(cli "core show channels count" | head -n 1)"
    if ari_info >/dev/null; then say "ARI $(ari_url) answers"; else say "ARI $(ari_url) does not answer"; fi
}

require_root() {
    [[ $EUID -eq 0 ]] || die "needs root (debootstrap, mount, chroot)"
}

main() {
    local command="${1:-}"
    [[ $# -gt 0 ]] && shift
    case "$command" in
        provision) require_root; take_lock; provision; say "root filesystem at $root" ;;
        start) require_root; take_lock; start ;;
        stop) require_root; take_lock; stop ;;
        restart) require_root; take_lock; stop; start ;;
        crash) require_root; take_lock; crash ;;
        reload) require_root; take_lock; reload ;;
        status) status ;;
        wait-ready) wait_ready || exit 1; ready_line ;;
        cli) is_running || die "not running"; cli "$@" ;;
        *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
    esac
}

main "$@"
