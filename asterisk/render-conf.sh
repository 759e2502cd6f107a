#!/usr/bin/env bash
# Copy Dialplane's Asterisk configuration (conf/*.conf) into DEST_DIR (normally /etc/asterisk), replacing
# each @NAME@ placeholder with the environment variable NAME or its default below. Files in DEST_DIR that
# are not ours stay as the package installed them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly here

# NAME=default for every placeholder the templates use.
readonly settings=(
    ASTERISK_ARI_USERNAME=dialplane
    ASTERISK_ARI_PASSWORD=dialplane
    ASTERISK_ARI_APP=dialplane
    ASTERISK_BIND_ADDRESS=127.0.0.1
    ASTERISK_HTTP_PORT=8088
    ASTERISK_SIP_PORT=5060
    ASTERISK_ENTITY_ID=02:00:00:00:00:01
    ASTERISK_RTP_START=10000
    ASTERISK_RTP_END=20000
)

render_file() {
    local text setting name value
    text="$(<"$1")"
    for setting in "${settings[@]}"; do
        name="${setting%%=*}"
        value="${!name:-${setting#*=}}"
        text="${text//"@$name@"/"$value"}"
    done
    printf '%s\n' "$text"
}

main() {
    [[ $# -eq 1 ]] || { echo "usage: $0 DEST_DIR" >&2; exit 2; }
    local dest="$1" source
    mkdir -p "$dest"
    for source in "$here"/conf/*.conf; do
        render_file "$source" >"$dest/$(basename "$source")"
    done
    chmod -R a+rX "$dest"
}

main "$@"
