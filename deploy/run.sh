#!/usr/bin/env bash
# Builds relbot (release) and runs it, in the folder this is run from (its .env, and the
# sandbox's database and log, are there).
#  - With SLACK_APP_TOKEN or SLACK_BOT_TOKEN set (in the environment or in ./.env), relbot
#    runs against Slack (with only one set, relbot says which is missing and exits 2).
#  - With neither, it runs in the sandbox: relbot-sim plays Slack on this machine and serves a
#    Slack-like page on 127.0.0.1; the page's URL is the first line printed. Open it in a
#    browser to drive a release by typing and clicking, as any of the sandbox's people.
#    `deploy/run.sh --terminal` (or RELBOT_SANDBOX=terminal) is the same sandbox at the
#    terminal instead: type /release commands, `click Done 1.1`, `home`.
#    RELBOT_SANDBOX_PORT picks the page's port (default: any free one).
set -euo pipefail

usage="usage: deploy/run.sh [--terminal]
Builds relbot and runs it here: against Slack when SLACK_APP_TOKEN or SLACK_BOT_TOKEN is set
(environment or ./.env), else in the sandbox (a page in the browser; --terminal: at the
terminal)."
terminal=0
case "${1:-}" in
    "") ;;
    --terminal) terminal=1 ;;
    -h | --help)
        echo "$usage"
        exit 0
        ;;
    *)
        echo "run.sh: unknown option '$1'" >&2
        echo "$usage" >&2
        exit 2
        ;;
esac
if [ $# -gt 1 ]; then
    echo "$usage" >&2
    exit 2
fi
[ "${RELBOT_SANDBOX:-}" = "terminal" ] && terminal=1

here=$PWD
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash deploy/setup.sh >&2

build=${RELBOT_BUILD_DIR:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRELBOT_TESTS=OFF >/dev/null
# Build output goes to stderr: in the sandbox, the first line on stdout is the page's URL.
cmake --build "$build" -j "$jobs" --target relbot relbot-sim >&2
cd "$here"

has_setting() {
    local name=$1
    [ -n "${!name:-}" ] && return 0
    [ -f .env ] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?${name}[[:space:]]*=[[:space:]]*['\"]?[^[:space:]'\"#]" .env
}

if has_setting SLACK_APP_TOKEN || has_setting SLACK_BOT_TOKEN; then
    echo "run.sh: starting relbot against Slack (Ctrl-C stops it)" >&2
    exec "$build/relbot"
fi

db=${RELBOT_DEMO_DB:-relbot-demo.db}
log=${RELBOT_DEMO_LOG:-relbot-demo.log}
if [ "$terminal" = 1 ]; then
    echo "run.sh: SLACK_APP_TOKEN and SLACK_BOT_TOKEN are not set: starting the sandbox at the terminal." >&2
    exec "$build/relbot-sim" --demo "$build/relbot" --db "$db" --log "$log"
fi
echo "run.sh: SLACK_APP_TOKEN and SLACK_BOT_TOKEN are not set: starting the sandbox in the browser (deploy/run.sh --terminal for the terminal)." >&2
exec "$build/relbot-sim" --web "$build/relbot" --web-port "${RELBOT_SANDBOX_PORT:-0}" --db "$db" --log "$log"
