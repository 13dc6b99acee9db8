#!/usr/bin/env bash
# Installs the agent into a machine image (Debian 12, Ubuntu 22.04+, Amazon Linux 2023). Idempotent.
#
#   install.sh --artifact agent-X.Y.Z.tgz --manifest-url agent@manifests.internal:/ \
#              --manifest-host-key FILE --client-key FILE --bucket fleet-reports [--region R]
#              [--release-key PUBFILE] [--node /path/to/node] [--root DIR] [--no-packages] [--publisher]
#
# --root DIR installs into a directory tree instead of / (tests, chroots); with it no package is
# installed and the unit is enabled with `systemctl --root`. Keys come from the build, never from here:
# this script refuses to generate them. --release-key is the publisher's public key (`agent keygen`):
# with it the new config accepts only signed releases; the private key never goes into an image.
# --publisher (the publisher host only) also installs and enables agent-rollout.timer, the rollout
# controller; it runs once /etc/agent/release.key (the private key, put there by hand) exists.
set -euo pipefail

artifact='' manifest_url='' host_key='' client_key='' release_key='' bucket='' region='us-east-1' node='' root='' packages=yes publisher=no
usage() { sed -n '2,13p' "$0" >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --artifact) artifact=$2; shift 2 ;;
    --manifest-url) manifest_url=$2; shift 2 ;;
    --manifest-host-key) host_key=$2; shift 2 ;;
    --client-key) client_key=$2; shift 2 ;;
    --release-key) release_key=$2; shift 2 ;;
    --bucket) bucket=$2; shift 2 ;;
    --region) region=$2; shift 2 ;;
    --node) node=$2; shift 2 ;;
    --root) root=${2%/}; shift 2 ;;
    --no-packages) packages=no; shift ;;
    --publisher) publisher=yes; shift ;;
    -h|--help) usage ;;
    *) echo "install.sh: unknown argument $1" >&2; usage ;;
  esac
done
if [ -z "$artifact" ] || [ ! -f "$artifact" ]; then
  echo "install.sh: --artifact must name the agent tarball (npm run package)" >&2; exit 64
fi
[ -n "$root" ] && packages=no
here=$(cd "$(dirname "$0")" && pwd)

log() { printf 'install.sh: %s\n' "$*"; }

# shellcheck source=/dev/null
os_id() { (. "$root/etc/os-release" 2>/dev/null && echo "${ID:-unknown}") || echo unknown; }

install_packages() {
  case "$(os_id)" in
    debian|ubuntu)
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends puppet rsync openssh-client util-linux ca-certificates curl
      ;;
    amzn)
      # AL2023 ships no Puppet: Puppet's own repository provides puppet-agent (puts puppet in /opt/puppetlabs/bin)
      dnf install -y rsync openssh-clients util-linux
      if ! command -v puppet >/dev/null; then
        rpm -q puppet-release >/dev/null 2>&1 || rpm -Uvh https://yum.puppet.com/puppet7-release-el-9.noarch.rpm
        dnf install -y puppet-agent
        ln -sf /opt/puppetlabs/bin/puppet /usr/local/bin/puppet
      fi
      ;;
    *) echo "install.sh: unsupported OS $(os_id)" >&2; exit 1 ;;
  esac
}

# Node 22 or 24 LTS: a given binary, a new enough one already there, or the npm registry's (ensure-node.sh)
resolve_node() {
  if [ -n "$node" ]; then
    [ -x "$node" ] || { echo "install.sh: --node $node is not executable" >&2; exit 1; }
    echo "$node"; return
  fi
  if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 22 ]; then
    command -v node; return
  fi
  [ "$packages" = yes ] || { echo "install.sh: no Node >= 22 found; give --node PATH" >&2; exit 1; }
  local dir
  dir=$(bash "$here/ensure-node.sh" --min 22.0) || exit 1
  echo "$dir/node"
}

[ "$packages" = yes ] && install_packages
node_bin=$(resolve_node)

log "agent from $artifact into $root/opt/agent (node: $node_bin)"
install -d -m 0755 "$root/opt/agent" "$root/usr/local/bin" "$root/etc/agent" "$root/etc/systemd/system"
staging=$(mktemp -d "$root/opt/.agent-new.XXXXXX")
tar -xzf "$artifact" -C "$staging" --strip-components=1
rm -rf "$root/opt/agent.old"
mv "$root/opt/agent" "$root/opt/agent.old" && mv "$staging" "$root/opt/agent" && rm -rf "$root/opt/agent.old"

# the wrapper names the node binary, so the agent never depends on PATH (systemd's is short)
node_in_image=${node_bin#"$root"}
# `agent daemon` runs lean (DAEMON_NODE_FLAGS in agent/commands/daemon.ts says why); nothing else does
cat > "$root/usr/local/bin/agent.new" <<WRAPPER
#!/bin/sh
[ "\$1" = daemon ] && exec $node_in_image --lite-mode --no-expose-wasm /opt/agent/dist/agent/main.js "\$@"
exec $node_in_image /opt/agent/dist/agent/main.js "\$@"
WRAPPER
chmod 0755 "$root/usr/local/bin/agent.new"
mv "$root/usr/local/bin/agent.new" "$root/usr/local/bin/agent"

if [ ! -e "$root/etc/agent/agent.yaml" ]; then
  if [ -z "$manifest_url" ] || [ -z "$bucket" ]; then
    echo "install.sh: --manifest-url and --bucket are needed for a new /etc/agent/agent.yaml" >&2; exit 64
  fi
  release_keys='[]'
  [ -n "$release_key" ] && release_keys='[/etc/agent/release.pub]'
  sed -e "s#@MANIFEST_URL@#$manifest_url#" -e "s#@REPORT_BUCKET@#$bucket#" -e "s#@REGION@#$region#" \
    -e "s#@RELEASE_KEYS@#$release_keys#" "$here/agent.yaml.template" > "$root/etc/agent/agent.yaml"
  chmod 0644 "$root/etc/agent/agent.yaml"
  log "wrote /etc/agent/agent.yaml"
else
  log "kept the existing /etc/agent/agent.yaml"
fi

install -d -m 0700 "$root/etc/agent/ssh" "$root/var/lib/agent"
if [ -n "$host_key" ]; then
  # the manifest server's host key, pinned: known_hosts lines as `agent/ami/manifest-server.sh` prints them
  install -m 0644 "$host_key" "$root/etc/agent/ssh/known_hosts"
fi
if [ -n "$client_key" ]; then
  install -m 0600 "$client_key" "$root/etc/agent/ssh/id_ed25519"
fi
if [ -n "$release_key" ]; then
  install -m 0644 "$release_key" "$root/etc/agent/release.pub"
fi

# enable UNIT WANTED_BY: with --root through `systemctl --root`, or the link it would make
enable_unit() {
  if [ -n "$root" ]; then
    systemctl --root="$root" enable "$1" >/dev/null 2>&1 || {
      install -d "$root/etc/systemd/system/$2.wants"
      ln -sf "/etc/systemd/system/$1" "$root/etc/systemd/system/$2.wants/$1"
    }
  else
    systemctl enable "$1"
  fi
}
install -m 0644 "$root/opt/agent/systemd/agent.service" "$root/etc/systemd/system/agent.service"
if [ "$publisher" = yes ]; then
  install -m 0644 "$root/opt/agent/systemd/agent-rollout.service" "$root/opt/agent/systemd/agent-rollout.timer" "$root/etc/systemd/system/"
fi
[ -z "$root" ] && systemctl daemon-reload
enable_unit agent.service multi-user.target
[ "$publisher" = yes ] && enable_unit agent-rollout.timer timers.target
log "installed $("$node_bin" "$root/opt/agent/dist/agent/main.js" --version)"
