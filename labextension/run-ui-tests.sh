#!/usr/bin/env bash
# Unit (jest) and end-to-end (Galata/Playwright) tests of the JupyterLab extension.
#
# Run after `pip install .` (which installs the kernel and the prebuilt extension). Installs
# what the tests need: Chromium from Debian if missing (browsers cannot be downloaded by the
# test tools), the npm dependencies from the committed yarn.lock files. Starts its own
# `jupyter lab` on 127.0.0.1 (free port). Exits non-zero if anything fails.
#
#   bash labextension/run-ui-tests.sh            # everything
#   SKIP_E2E=1 bash labextension/run-ui-tests.sh # jest only
#   UPDATE_DOCS_SCREENSHOT=1 ...                 # also refresh the README's pictures in docs/
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

step() { printf '\n=== %s\n' "$*"; }

step "checks"
command -v node >/dev/null || { echo "node is required (Node.js >= 18)"; exit 1; }
command -v jlpm >/dev/null || { echo "jlpm is required: pip install jupyterlab"; exit 1; }
node --version
jupyter lab --version
if ! jupyter labextension list 2>&1 | grep -q '@reactive-kernel/labextension.*enabled.*OK'; then
  jupyter labextension list 2>&1 || true
  echo "the extension @reactive-kernel/labextension is not installed and enabled: run 'pip install .' first"
  exit 1
fi
jupyter kernelspec list | grep -q '^ *reactive ' || { echo "kernelspec 'reactive' missing: run 'pip install .' first"; exit 1; }

chromium_path="${CHROMIUM_PATH:-}"
if [ -z "$chromium_path" ]; then
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -x "$candidate" ]; then chromium_path="$candidate"; break; fi
  done
fi
if [ -z "$chromium_path" ] && [ -z "${SKIP_E2E:-}" ]; then
  step "installing chromium (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
  chromium_path=/usr/bin/chromium
fi

export YARN_ENABLE_PROGRESS_BARS=false
export YARN_ENABLE_TELEMETRY=0

step "npm dependencies (labextension, from yarn.lock)"
jlpm install >/tmp/reactive-labextension-jlpm.log 2>&1 || { tail -40 /tmp/reactive-labextension-jlpm.log; exit 1; }

step "unit tests (jest)"
jest_log="$(mktemp)"
set +e
jlpm jest --ci 2>&1 | tee "$jest_log"
jest_rc=${PIPESTATUS[0]}
set -e
jest_passed=$(sed -n 's/^Tests:.* \([0-9][0-9]*\) passed.*/\1/p' "$jest_log" | tail -1)
jest_failed=$(sed -n 's/^Tests:.* \([0-9][0-9]*\) failed.*/\1/p' "$jest_log" | tail -1)
jest_passed=${jest_passed:-0}; jest_failed=${jest_failed:-0}
[ "$jest_rc" = 0 ] || [ "$jest_failed" != 0 ] || jest_failed=1

e2e_rc=0; e2e_passed=0; e2e_failed=0
if [ -z "${SKIP_E2E:-}" ]; then
  step "npm dependencies (ui-tests, from yarn.lock)"
  cd "$here/ui-tests"
  jlpm install >/tmp/reactive-ui-tests-jlpm.log 2>&1 || { tail -40 /tmp/reactive-ui-tests-jlpm.log; exit 1; }

  step "end-to-end tests (Galata, Chromium at $chromium_path)"
  export CHROMIUM_PATH="$chromium_path"
  export UI_TESTS_PORT="${UI_TESTS_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  settings_dir="$(mktemp -d)"
  export UI_TESTS_SETTINGS_DIR="$settings_dir"
  export JUPYTER_CONFIG_DIR="$(mktemp -d)"   # no user config leaks into the test server
  rm -rf artifacts test-results
  e2e_log="$(mktemp)"
  set +e
  CI="${CI:-true}" jlpm playwright test 2>&1 | tee "$e2e_log"
  e2e_rc=${PIPESTATUS[0]}
  set -e
  e2e_passed=$(sed -n 's/^ *\([0-9][0-9]*\) passed.*/\1/p' "$e2e_log" | tail -1)
  e2e_failed=$(sed -n 's/^ *\([0-9][0-9]*\) failed.*/\1/p' "$e2e_log" | tail -1)
  e2e_flaky=$(sed -n 's/^ *\([0-9][0-9]*\) flaky.*/\1/p' "$e2e_log" | tail -1)
  e2e_passed=$(( ${e2e_passed:-0} + ${e2e_flaky:-0} )); e2e_failed=${e2e_failed:-0}
  [ "$e2e_rc" = 0 ] || [ "$e2e_failed" != 0 ] || e2e_failed=1
  rm -rf "$settings_dir"
  if [ -n "${UPDATE_DOCS_SCREENSHOT:-}" ]; then  # the README's pictures
    for pair in marks.png:screenshot.png graph-view.png:graph-view.png widgets.png:widgets.png; do
      if [ -f "artifacts/${pair%%:*}" ]; then cp "artifacts/${pair%%:*}" "$here/../docs/${pair##*:}"; fi
    done
  fi
  echo "screenshots: $here/ui-tests/artifacts/"
fi

echo
echo "labextension: $(( jest_passed + e2e_passed )) passed, $(( jest_failed + e2e_failed )) failed"
[ "$jest_rc" = 0 ] && [ "$e2e_rc" = 0 ]
