#!/usr/bin/env bash
# Render the identification message of abandoned calls (voices/identification.txt, or the environment's
# ASTERISK_IDENTIFICATION_MESSAGE), the test-carrier prompts (voices/lines.txt) and the answering machine's
# beep into DEST_DIR as signed-linear raw audio: NAME.sln16 (16 kHz) and NAME.sln (8 kHz), mono, native
# byte order. Needs espeak-ng and sox. Idempotent: does nothing while DEST_DIR matches the current inputs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly here
readonly lines_file="$here/voices/lines.txt"
readonly identification_file="$here/voices/identification.txt"
work_dir=""

usage() {
    echo "usage: $0 DEST_DIR" >&2
    exit 2
}

# The identification message: ASTERISK_IDENTIFICATION_MESSAGE, else the file's lines that are not comments.
identification_text() {
    if [[ -n "${ASTERISK_IDENTIFICATION_MESSAGE:-}" ]]; then
        printf '%s' "$ASTERISK_IDENTIFICATION_MESSAGE"
    else
        grep -v '^[[:space:]]*#' "$identification_file" | tr '\n' ' '
    fi
}

inputs_digest() {
    { cat "$lines_file" "${BASH_SOURCE[0]}"; identification_text; } | sha256sum | cut -d' ' -f1
}

# to_slin WAV DEST_BASE: DEST_BASE.sln16 and DEST_BASE.sln
to_slin() {
    sox "$1" -r 16000 -c 1 -b 16 -e signed-integer -t raw "$2.sln16"
    sox "$1" -r 8000 -c 1 -b 16 -e signed-integer -t raw "$2.sln"
}

render_line() {
    local name="$1" voice="$2" text="$3" work="$4"
    espeak-ng -v "$voice" -s 150 -w "$work/$name.wav" "$text"
    to_slin "$work/$name.wav" "$work/$name"
}

render_beep() {
    local work="$1"
    sox -n -r 16000 -c 1 -b 16 "$work/machine-beep.wav" synth 0.6 sine 1000 vol 0.5
    to_slin "$work/machine-beep.wav" "$work/machine-beep"
}

trim() {
    local value="$1"
    value="${value#"${value%%[![:space:]]*}"}"
    printf '%s' "${value%"${value##*[![:space:]]}"}"
}

render_all() {
    local work="$1" name voice text
    while IFS='|' read -r name voice text; do
        [[ -z "$(trim "$name")" || "$name" == \#* ]] && continue
        render_line "$(trim "$name")" "$(trim "$voice")" "$(trim "$text")" "$work"
    done <"$lines_file"
    render_line identification en-us "$(trim "$(identification_text)")" "$work"
    render_beep "$work"
    rm -f "$work"/*.wav
}

main() {
    [[ $# -eq 1 ]] || usage
    local dest="$1" digest
    digest="$(inputs_digest)"
    if [[ -f "$dest/.digest" && "$(cat "$dest/.digest")" == "$digest" ]]; then
        echo "voices up to date in $dest"
        return 0
    fi
    mkdir -p "$dest"
    work_dir="$(mktemp -d "$dest/.render.XXXXXX")"
    trap 'rm -rf "$work_dir"' EXIT
    render_all "$work_dir"
    find "$dest" -maxdepth 1 -type f -name '*.sln*' -delete
    mv "$work_dir"/* "$dest"/
    chmod a+r "$dest"/*
    echo "$digest" >"$dest/.digest"
    echo "rendered $(find "$dest" -maxdepth 1 -name '*.sln16' | wc -l) voices into $dest"
}

main "$@"
