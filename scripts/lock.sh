#!/usr/bin/env bash
# Regenerate the lock files in requirements/ from pyproject.toml, with a hash for every file.
#
#   scripts/lock.sh            keep the current pins where they still fit pyproject.toml
#   scripts/lock.sh --upgrade  take the newest releases that fit (then run the tests)
#
# requirements/run.txt    what the bot needs to run: the image, CI and the quick start install it
# requirements/dev.txt    run.txt's pins plus the dev extras and the build backend: CI's install
# requirements/build.txt  the build backend only (hatchling): the image's builder stage
#
# pip-tools runs in a throwaway venv with a pinned version, and pip reads no config file, so a
# machine's own pip settings (extra indexes, find-links, constraints) never reach the locks:
# every pin and hash comes from PyPI. The pins are resolved for CPython 3.11 on Linux (the
# image's Python); hashes cover every file of each pinned release, and the same locks install
# and pass the tests on 3.12 and 3.13 too.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP_TOOLS_VERSION=7.6.2
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL PIP_CONSTRAINT PIP_REQUIRE_VIRTUALENV
python3 -m venv "$tools"
"$tools/bin/pip" install -q "pip-tools==$PIP_TOOLS_VERSION"
export CUSTOM_COMPILE_COMMAND="scripts/lock.sh"
compile=("$tools/bin/pip-compile" --quiet --no-config --generate-hashes --allow-unsafe
  --strip-extras --no-emit-index-url --no-emit-find-links "$@")
"${compile[@]}" -o requirements/run.txt pyproject.toml
"${compile[@]}" --extra dev --build-deps-for editable -c requirements/run.txt \
  -o requirements/dev.txt pyproject.toml
"${compile[@]}" --only-build-deps --build-deps-for wheel -c requirements/dev.txt \
  -o requirements/build.txt pyproject.toml
echo "locked: $(grep -c '==' requirements/run.txt) run, $(grep -c '==' requirements/dev.txt) dev," \
  "$(grep -c '==' requirements/build.txt) build packages"
