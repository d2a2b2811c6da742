#!/usr/bin/env bash
# Optional: install ipyflow into its own venv (it pins its own IPython) and register its
# kernelspec as `ipyflow` for the current user's Jupyter, so benchmarks/run.py includes it.
# The benchmark skips the ipyflow rows when no `ipyflow` kernelspec is found.
set -euo pipefail
VENV="${1:-${IPYFLOW_VENV:-$HOME/.cache/reactive-kernel-bench/ipyflow-venv}}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet ipyflow
SPEC="$(mktemp -d)/ipyflow"
mkdir -p "$SPEC"
cat > "$SPEC/kernel.json" <<JSON
{
 "argv": ["$VENV/bin/python", "-m", "ipyflow.kernel", "-f", "{connection_file}"],
 "display_name": "Python 3 (ipyflow)",
 "language": "python"
}
JSON
jupyter kernelspec install --user --replace --name ipyflow "$SPEC"
jupyter kernelspec list
