#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo need, only when they are missing.
#
# Usage: scripts/ensure-system-packages.sh [postgres] [odbc] [chromium] [node]
# (no arguments: all of them). Cheap when everything is present: it only looks, and runs
# `apt-get update` at most once, and only when something must be installed.
set -euo pipefail

wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || wanted=(postgres odbc chromium node)

missing=()
for what in "${wanted[@]}"; do
    case "$what" in
        postgres)
            [[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql-15) ;;
        odbc)
            # pyodbc needs libodbc.so.2 at import; odbcinst registers drivers. (grep without -q:
            # an early exit would SIGPIPE ldconfig and fail the pipeline under pipefail.)
            ldconfig -p 2>/dev/null | grep 'libodbc\.so\.2' >/dev/null || missing+=(unixodbc)
            command -v odbcinst >/dev/null 2>&1 || missing+=(odbcinst) ;;
        chromium)
            [[ -x /usr/bin/chromium ]] || missing+=(chromium) ;;
        node)
            command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm) ;;
        *)
            echo "ensure-system-packages: unknown package group '$what'" >&2; exit 2 ;;
    esac
done

[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi

echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
