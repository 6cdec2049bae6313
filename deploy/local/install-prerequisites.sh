#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and run crnt without Docker:
# uv (from PyPI), a Java 17 runtime and Maven (for Kafka's jars), PostgreSQL, npm (for the web's
# assets, from the npm registry) and Chromium (the browser tests of the web).
set -euo pipefail

say() { printf 'crnt: %s\n' "$*" >&2; }

if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  say "installing uv from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check uv \
    || { say "could not install uv: run 'python3 -m pip install uv' and check access to PyPI"; exit 1; }
fi

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null 2>&1; then
    say "missing ${missing[*]}: install them with apt-get (as root), then run make again"
    exit 1
  fi
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  say "installing ${missing[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { say "apt-get could not install ${missing[*]}: check access to Debian's package mirror"; exit 1; }
fi
