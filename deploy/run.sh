#!/usr/bin/env bash
# Builds relbot (release) and runs it.
#  - With SLACK_APP_TOKEN and SLACK_BOT_TOKEN set (in the environment or in ./.env), relbot
#    runs against Slack.
#  - Without them, it runs in the sandbox: relbot-sim plays Slack on this machine and you type
#    /release commands at the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/setup.sh

build=${RELBOT_BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRELBOT_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target relbot relbot-sim

has_setting() {
    local name=$1
    [ -n "${!name:-}" ] && return 0
    [ -f .env ] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?${name}[[:space:]]*=[[:space:]]*['\"]?[^[:space:]'\"#]" .env
}

if has_setting SLACK_APP_TOKEN && has_setting SLACK_BOT_TOKEN; then
    echo "run.sh: starting relbot against Slack (Ctrl-C stops it)" >&2
    exec "$build/relbot"
fi

echo "run.sh: SLACK_APP_TOKEN and SLACK_BOT_TOKEN are not set: starting the sandbox." >&2
exec "$build/relbot-sim" --demo "$build/relbot" --db "${RELBOT_DEMO_DB:-relbot-demo.db}" \
    --log "${RELBOT_DEMO_LOG:-relbot-demo.log}"
