#!/usr/bin/env bash
# Install everything the tests need, then run them all. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --upgrade pip
python -m pip install --quiet ".[test]"   # the real install: kernelspec and prebuilt extension
jupyter kernelspec list

python -m pytest -p no:cacheprovider
