#!/usr/bin/env bash
# The load tools `make bench` drives: wrk (the peers' and our HTTP load) and taskset
# (pinning). Installed from Debian's packages when missing and this is root, as CI installs
# the browser; otherwise the missing ones are named and the suite marks what needs them
# "not run".
set -euo pipefail
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (apt)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "make bench: install ${missing[*]} for the pinned and peer benchmarks" >&2
fi
