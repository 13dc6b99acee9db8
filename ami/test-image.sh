#!/usr/bin/env bash
# Fresh-machine proof (npm run test:image): a brand-new Debian 12 root from debootstrap, the built
# artefact installed with install.sh, then, chrooted there: agent --version, agent config check on the
# installed template, puppet and rsync present, the unit enabled. Needs root and Debian's mirror;
# takes several minutes (downloads), so CI leaves it to this script.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/agent-image-XXXXXX)
trap 'umount "$work/root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }

echo "== debootstrap Debian 12 into $work/root"
debootstrap --variant=minbase --include=puppet,rsync,openssh-client,util-linux,systemd,ca-certificates bookworm "$work/root" http://deb.debian.org/debian >/dev/null

echo "== Node 24 for the image, from the npm registry (Debian 12 ships Node 18)"
(cd "$work" && npm install --silent --no-save --prefix "$work/node24" node@24 >/dev/null)
install -D -m 0755 "$(readlink -f "$work/node24/node_modules/.bin/node")" "$work/root/usr/local/lib/agent-node/bin/node"

echo "== the artefact"
artifact="$work/$(cd "$repo" && npm run --silent build >/dev/null && npm pack --silent --pack-destination "$work" | tail -1)"

ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
echo "manifests.example.internal ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIImageTestManifestHostKey" > "$work/known_hosts"
bash "$repo/ami/install.sh" --artifact "$artifact" --root "$work/root" --node "$work/root/usr/local/lib/agent-node/bin/node" \
  --manifest-url 'agent@manifests.example.internal:/' --manifest-host-key "$work/known_hosts" \
  --client-key "$work/client_key" --bucket fleet-reports

echo "== checks inside the new root"
mount -t proc proc "$work/root/proc"
chroot "$work/root" /usr/local/bin/agent --version
chroot "$work/root" /usr/local/bin/agent config check >/dev/null && echo "config check: valid"
chroot "$work/root" puppet --version
chroot "$work/root" rsync --version | sed -n 1p
chroot "$work/root" systemctl is-enabled agent.service
echo "fresh-machine proof: OK"
