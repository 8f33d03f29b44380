#!/usr/bin/env bash
# Packages the extension as a user would from a fresh clone: clones HEAD into
# a temporary folder, `npm ci` there (install scripts off: packaging needs no
# native module) and `npm run package`, which builds everything the .vsix
# ships and fails when something is missing (extension/shipped.mjs). Checks
# the .vsix once more, lists its dashboard files, and copies it to $1.
#   bash .ci/package-clean.sh <out.vsix>
# Uncommitted changes are NOT in the package: it is built from HEAD.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "${1:?usage: package-clean.sh <out.vsix>}")"

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "package-clean: the work tree has uncommitted changes; packaging HEAD ($(git rev-parse --short HEAD)) without them" >&2
fi
clean="$(mktemp -d "${TMPDIR:-/tmp}/faultline-package.XXXXXX")"
trap 'rm -rf "$clean"' EXIT
git clone --quiet --no-hardlinks . "$clean/repo"
(
  cd "$clean/repo"
  npm ci --ignore-scripts --prefer-offline --no-audit --no-fund
  npm run package
)
vsix="$clean/repo/extension/faultline-vscode.vsix"
node extension/shipped.mjs "$vsix"
unzip -l "$vsix" 2>/dev/null | grep 'extension/webview/' >&2 || true
mkdir -p "$(dirname "$out")"
cp "$vsix" "$out"
echo "package-clean: $out (from a clean clone of $(git rev-parse --short HEAD))"
