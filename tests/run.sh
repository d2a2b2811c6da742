#!/usr/bin/env bash
# Install everything the tests need, then run them all. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --upgrade pip
# The real install: kernelspec and prebuilt JupyterLab extension (built with node on install).
python -m pip install --quiet ".[test]"
jupyter kernelspec list
jupyter labextension list

status=0
python -m pytest -p no:cacheprovider || status=$?
# The extension's jest unit tests and Galata end-to-end tests in Debian's Chromium.
bash labextension/run-ui-tests.sh || status=$?
exit $status
