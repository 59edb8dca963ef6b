#!/usr/bin/env bash
# Known vulnerabilities in the locked dependencies: pip-audit over the lock files, as pinned.
#
#   scripts/audit.sh        audit requirements/dev.txt (run.txt's pins and the dev tools)
#
# pip-audit runs from a throwaway venv with a pinned version, reads no pip config, and audits
# the lock file itself (--disable-pip: nothing is installed or resolved; every pin is checked as
# written, with its hashes). --strict makes a package that could not be looked up a failure:
# without it, a machine that cannot reach the vulnerability database (PyPI's JSON API or OSV)
# would report success having checked nothing. Exit 0: no known vulnerability; 1: some found,
# or something could not be checked.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP_AUDIT_VERSION=2.10.1
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL PIP_CONSTRAINT PIP_REQUIRE_VIRTUALENV
python3 -m venv "$tools"
"$tools/bin/pip" install -q "pip-audit==$PIP_AUDIT_VERSION"
"$tools/bin/pip-audit" --strict --disable-pip --progress-spinner off \
  -r "${1:-requirements/dev.txt}"
