#!/usr/bin/env bash
# The VS Code extension's tests: builds the runtime and the extension,
# packages the .vsix from a clean clone (.ci/package-clean.sh), then runs
#   1. unit tests (node:test, no editor),
#   2. integration tests in code-server's real extension host (mocha),
#   3. UI end-to-end tests with Debian chromium against code-server with the
#      packaged .vsix installed (screenshots in extension/test-output/e2e/).
# Installs (or reuses) code-server, Node 24 and chromium via vscode-setup.sh.
# Exits non-zero on any failure; the last line is 'N passed, N failed'.
set -uo pipefail
cd "$(dirname "$0")/.."

eval "$(bash .ci/vscode-setup.sh)" || { echo "vscode-tests: setup failed"; echo "0 passed, 1 failed"; exit 1; }
if [ -d /usr/include/node ] && [ -z "${npm_config_nodedir:-}" ]; then export npm_config_nodedir=/usr; fi
# The extension's dev dependencies come with the root install (npm workspace).
if [ ! -d node_modules/@vscode/vsce ] || [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund || { echo "0 passed, 1 failed"; exit 1; }
fi

passed=0
failed=0
count_node_test() { # adds the '# pass N' / '# fail N' of a node:test run
  local out="$1" p f
  p=$(grep -E '^# pass [0-9]+' "$out" | tail -1 | awk '{print $3}')
  f=$(grep -E '^# fail [0-9]+' "$out" | tail -1 | awk '{print $3}')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ -z "$p" ] && [ -z "$f" ]; then failed=$((failed + 1)); fi
}

log=extension/test-output
mkdir -p "$log"

echo "== build (integration tests run the extension from this tree)"
if ! (npm run build && npm run build -w extension); then
  echo "vscode-tests: build failed"
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
fi

# The .vsix the UI tests install is the one `npm run package` builds in a
# fresh clone of HEAD, as a user would: nothing built here leaks into it.
echo "== package from a clean clone"
if ! bash .ci/package-clean.sh extension/faultline-vscode.vsix; then
  echo "vscode-tests: packaging from a clean clone failed"
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
fi
passed=$((passed + 1))

echo "== unit tests"
(cd extension && timeout 120 node --import tsx --test $(find src -name '*.test.ts')) > "$log/unit.tap" 2>&1
tail -n 9 "$log/unit.tap"
count_node_test "$log/unit.tap"

echo "== integration tests (code-server extension host)"
(cd extension && timeout 420 node --import tsx test/run/codeServerTests.ts) > "$log/integration.txt" 2>&1
rc=$?
cat "$log/integration.txt"
line=$(grep -E '^integration: [0-9]+ passed, [0-9]+ failed' "$log/integration.txt" | tail -1)
if [ -n "$line" ]; then
  passed=$((passed + $(echo "$line" | sed -E 's/^integration: ([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
elif [ $rc -ne 0 ]; then
  failed=$((failed + 1))
fi

echo "== UI end-to-end tests (chromium, packaged .vsix)"
(cd extension && timeout 600 node --import tsx --test --test-concurrency=1 test/e2e/ui.e2e.ts test/e2e/testExplorer.e2e.ts test/e2e/history.e2e.ts) > "$log/e2e.tap" 2>&1
grep -E '^(not )?ok |^# (pass|fail)' "$log/e2e.tap"
grep -q '^not ok' "$log/e2e.tap" && grep -E -A12 '^not ok' "$log/e2e.tap" | head -60
count_node_test "$log/e2e.tap"
echo "screenshots: $(ls "$log"/e2e/*.png 2>/dev/null | tr '\n' ' ')"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
