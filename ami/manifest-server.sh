#!/usr/bin/env bash
# Sets up the manifest server side: a dedicated user, /var/puppetdist (what publishers write), and the
# image's public key allowed to do one thing only, a read-only rsync of /var/puppetdist:
#   restrict,command="/usr/bin/rrsync -ro /var/puppetdist" ssh-ed25519 AAAA...
# Then prints the host key line to pin in the image (ami/install.sh --manifest-host-key).
#
#   manifest-server.sh --client-public-key agent_id_ed25519.pub [--user agent] [--dist /var/puppetdist] [--host NAME]
set -euo pipefail

user=agent dist=/var/puppetdist client_pub='' host=$(hostname -f 2>/dev/null || hostname)
while [ $# -gt 0 ]; do
  case "$1" in
    --client-public-key) client_pub=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --dist) dist=$2; shift 2 ;;
    --host) host=$2; shift 2 ;;
    *) echo "manifest-server.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
if [ -z "$client_pub" ] || [ ! -f "$client_pub" ]; then
  echo "manifest-server.sh: --client-public-key must name the image's public key file" >&2; exit 64
fi
rrsync=$(command -v rrsync || echo /usr/bin/rrsync)
[ -x "$rrsync" ] || { echo "manifest-server.sh: rrsync not found (Debian: apt-get install rsync)" >&2; exit 1; }

id "$user" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/sh "$user"
install -d -m 0755 "$dist"
home=$(getent passwd "$user" | cut -d: -f6)
install -d -m 0700 -o "$user" -g "$user" "$home/.ssh"
key=$(awk '{print $1" "$2}' "$client_pub")
line="restrict,command=\"$rrsync -ro $dist\" $key agent-image"
touch "$home/.ssh/authorized_keys"
grep -qxF "$line" "$home/.ssh/authorized_keys" || echo "$line" >> "$home/.ssh/authorized_keys"
chown "$user:$user" "$home/.ssh/authorized_keys" && chmod 0600 "$home/.ssh/authorized_keys"

echo "# pin this in the image (ami/install.sh --manifest-host-key FILE):"
pub=/etc/ssh/ssh_host_ed25519_key.pub
[ -f "$pub" ] || { echo "manifest-server.sh: $pub missing: is sshd installed?" >&2; exit 1; }
echo "$host $(awk '{print $1" "$2}' "$pub")"
