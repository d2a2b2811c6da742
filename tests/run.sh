#!/usr/bin/env bash
# Install everything the tests need, then run them all. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --upgrade pip
# A development install (`pip install -e .`) links the extension's folder into the
# environment; on a machine that kept that environment, the link dangles in a fresh
# checkout and pip cannot install through it. Remove such a link, never a real folder.
ext_link="$(python -c 'import sys; print(sys.prefix)')/share/jupyter/labextensions/@reactive-kernel/labextension"
if [ -L "$ext_link" ]; then rm "$ext_link"; fi
# The real install: kernelspec and prebuilt JupyterLab extension (built with node on install).
python -m pip install --quiet ".[test]"
# The JupyterHub test's proxy (tests/test_jupyterhub.py).
command -v configurable-http-proxy >/dev/null || npm install --global --silent configurable-http-proxy
# PyTorch's CPU build, from this machine kind's local wheel, for the tensor fingerprint tests.
python -m pip install --quiet "torch==2.13.0"
jupyter kernelspec list
jupyter labextension list

status=0
python -m pytest -p no:cacheprovider || status=$?
# The extension's jest unit tests and Galata end-to-end tests in Debian's Chromium.
bash labextension/run-ui-tests.sh || status=$?
exit $status
