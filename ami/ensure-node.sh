#!/usr/bin/env bash
# Makes sure a supported Node.js and npm are there, and prints the directory that holds them on stdout
# (callers put it first on PATH). Used by tests/demo/run-demo.sh, .ci/run and ami/install.sh.
#
#   ensure-node.sh [--min MAJOR.MINOR]        (default 20.5: package.json "engines")
#
# In order:
#   1. a `node` on PATH (or one this script installed before) at least --min, with npm beside it: nothing to do;
#   2. Debian/Ubuntu whose apt candidate `nodejs` is at least --min: apt-get install nodejs npm (root only);
#   3. the Node binary the npm registry ships (package node-linux-<arch>, the one `npm install node@24`
#      fetches) and npm itself, both checked against the SHA-512 pinned below, unpacked under
#      /usr/local/lib/agent-node and linked into /usr/local/bin (root only).
# Otherwise it stops at once (exit 1) saying which version is needed and how to get one.
# Messages go to stderr. Environment, for tests and mirrors: AGENT_NODE_PREFIX, AGENT_NODE_BIN_DIR,
# AGENT_NPM_REGISTRY, AGENT_NODE_VERSION + AGENT_NODE_SHA512 (the tarball of this machine's arch),
# AGENT_NPM_VERSION + AGENT_NPM_SHA512.
set -euo pipefail

min=20.5
while [ $# -gt 0 ]; do
  case "$1" in
    --min) min=$2; shift 2 ;;
    *) echo "ensure-node.sh: unknown argument $1 (usage: ensure-node.sh [--min MAJOR.MINOR])" >&2; exit 64 ;;
  esac
done

# Node 24 LTS and npm 11 as the npm registry publishes them (dist.integrity of each tarball)
node_version=${AGENT_NODE_VERSION:-24.22.3}
npm_version=${AGENT_NPM_VERSION:-11.21.3}
npm_sha512=${AGENT_NPM_SHA512:-sha512-5Cf+jE+XctbhH/zjOOqXC+ity7eec/Tkk4Ql38tf6w+1htp2wYPHmE4c1R1Es3DY227Ac14+SLrlYJwkBicbTg==}
case "$(uname -m)" in
  x86_64|amd64) arch=x64; pinned_sha512=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA== ;;
  aarch64|arm64) arch=arm64; pinned_sha512=sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw== ;;
  *) arch=''; pinned_sha512='' ;;
esac
node_sha512=${AGENT_NODE_SHA512:-$pinned_sha512}
registry=${AGENT_NPM_REGISTRY:-https://registry.npmjs.org}
registry=${registry%/}
prefix=${AGENT_NODE_PREFIX:-/usr/local/lib/agent-node}
bin_dir=${AGENT_NODE_BIN_DIR:-/usr/local/bin}

say() { printf 'ensure-node: %s\n' "$*" >&2; }
# apt_install PACKAGE...: quietly, after an `apt-get update` if this machine never ran one
apt_lists() { compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null || apt-get update -qq >&2; }
apt_install() { apt_lists; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
give_up() {
  say "$1"
  say "the agent needs Node.js >= $min and npm. Get one of: your distribution's nodejs package if it is"
  say "  new enough (Debian 13, Ubuntu 24.10+), \`npm install node@24\` (a real node binary in"
  say "  node_modules/.bin/), or https://nodejs.org/en/download; then run this again with it first on PATH."
  exit 1
}

# version_ok VERSION: is vMAJOR.MINOR.PATCH at least $min?
version_ok() {
  local version=${1#v} major minor want_major=${min%%.*} want_minor=${min#*.}
  [ "$want_minor" = "$min" ] && want_minor=0
  major=${version%%.*}; minor=${version#*.}; minor=${minor%%.*}
  [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
  [ "$major" -gt "$want_major" ] || { [ "$major" -eq "$want_major" ] && [ "$minor" -ge "$want_minor" ]; }
}

# usable DIR: DIR/node is new enough and an npm runs beside it
usable() {
  local version
  [ -x "$1/node" ] && version=$("$1/node" --version 2>/dev/null) && version_ok "$version" &&
    [ -x "$1/npm" ] && PATH="$1:$PATH" "$1/npm" --version >/dev/null 2>&1
}

# 1. already there
found=$(command -v node 2>/dev/null || true)
if [ -n "$found" ] && usable "$(dirname "$found")"; then
  say "using $found ($("$found" --version))"; dirname "$found"; exit 0
fi
if usable "$bin_dir"; then
  say "using $bin_dir/node ($("$bin_dir/node" --version))"; echo "$bin_dir"; exit 0
fi
[ -n "$found" ] && say "$found is $("$found" --version 2>/dev/null || echo 'not runnable'), or has no npm beside it: need Node.js >= $min"
[ "$(id -u)" -eq 0 ] || give_up "not root, so nothing can be installed here"

# 2. the distribution's package, when new enough
if command -v apt-cache >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  apt_lists
  candidate=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ { print $2; exit }')
  candidate=${candidate#*:} # the epoch
  if [ "$candidate" = '(none)' ]; then candidate=''; fi
  if [ -n "$candidate" ] && version_ok "$candidate"; then
    say "installing Debian's nodejs $candidate and npm with apt"
    apt_install nodejs npm
    usable /usr/bin && { echo /usr/bin; exit 0; }
  elif [ -n "$candidate" ]; then
    say "apt offers nodejs $candidate only: taking Node.js $node_version from the npm registry"
  fi
fi

# 3. the npm registry's Node binary
[ -n "$arch" ] || give_up "no registry Node binary for this machine ($(uname -m))"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch() { # URL FILE
  if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
  else return 127; fi
}
if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  say "installing curl with apt"
  apt_install curl ca-certificates
fi
# sha512 FILE INTEGRITY: the file hashes to the registry's "sha512-<base64>"
sha512_ok() {
  local want have
  want=$(printf '%s' "${2#sha512-}" | base64 -d | od -An -vtx1 | tr -d ' \n')
  have=$(sha512sum "$1" | cut -d' ' -f1)
  [ -n "$want" ] && [ "$want" = "$have" ]
}
get() { # NAME VERSION INTEGRITY -> $work/NAME.tgz
  local url="$registry/$1/-/$1-$2.tgz"
  say "downloading $url"
  fetch "$url" "$work/$1.tgz" || give_up "could not download $url"
  sha512_ok "$work/$1.tgz" "$3" || give_up "$url does not match its pinned SHA-512: not installed"
}
get "node-linux-$arch" "$node_version" "$node_sha512"
get npm "$npm_version" "$npm_sha512"

# unpack beside the old copy, then swap: a failure half-way leaves the previous install as it was
mkdir -p "$(dirname "$prefix")" "$bin_dir"
new="$prefix.new"
rm -rf "$new"
mkdir -p "$new/bin" "$new/lib/node_modules/npm"
tar -xzf "$work/node-linux-$arch.tgz" -C "$new/bin" --strip-components=2 package/bin/node
tar -xzf "$work/npm.tgz" -C "$new/lib/node_modules/npm" --strip-components=1
"$new/bin/node" --version >/dev/null 2>&1 || give_up "the downloaded node does not run on this machine"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$new/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$new/bin/npx"
rm -rf "$prefix.old"
[ -e "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$new" "$prefix"
rm -rf "$prefix.old"
for tool in node npm npx; do ln -sfn "$prefix/bin/$tool" "$bin_dir/$tool"; done
usable "$bin_dir" || give_up "installed $prefix, but $bin_dir/node and npm do not run"
say "installed Node.js $("$bin_dir/node" --version) and npm $(PATH="$bin_dir:$PATH" "$bin_dir/npm" --version) in $prefix, linked from $bin_dir"
echo "$bin_dir"
