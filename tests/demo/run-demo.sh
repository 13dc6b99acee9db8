#!/usr/bin/env bash
# The demo of README step 1, on a fresh Debian/Ubuntu machine as root: installs what is missing, starts
# an S3 API server on 127.0.0.1, and drives the real agent binary through the cycle for a small fleet of
# three hosts (each with its own fake EC2 metadata: instance id, private IP, zone). Touches nothing
# outside a temp directory except what step (a) *would* change: it runs in --noop mode, and the
# /usr/local/bin/agent link (not made when an installed agent is there).
#
#   run-demo.sh [--keep]    --keep leaves the S3 server (and the fake metadata) up afterwards, so the
#                           fleet view can be run again; the stop command is printed at the end.
set -euo pipefail
keep=no
case "${1:-}" in
  --keep) keep=yes ;;
  '') ;;
  *) echo "usage: $0 [--keep]" >&2; exit 64 ;;
esac
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
agent() { node "$repo/dist/agent/main.js" "$@"; }
# run-now's exit code is information (2 = changes), not failure
show_exit() { local code=0; "$@" || code=$?; echo "-> exit code $code"; }

if ! command -v puppet >/dev/null || ! command -v rsync >/dev/null || ! command -v flock >/dev/null; then
  step "installing puppet and rsync"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends puppet rsync openssh-server util-linux >/dev/null
fi
# Node >= 20.5 and npm: this machine's when new enough, else Debian's or the npm registry's
node_dir=$(bash ami/ensure-node.sh)
export PATH="$node_dir:$PATH"
if [ ! -x dist/agent/main.js ] || [ package-lock.json -nt dist/agent/main.js ]; then
  step "npm ci (builds dist/)"
  npm ci --no-audit --no-fund
fi
# `agent` on PATH for what to try next: a link to this build, unless an installed agent is there
# (AGENT_DEMO_LINK=no: not at all, for tests/e2e/demo.test.ts)
if [ "${AGENT_DEMO_LINK:-yes}" = yes ] && [ "$(id -u)" -eq 0 ] && { [ ! -e /usr/local/bin/agent ] || [ -L /usr/local/bin/agent ]; }; then
  ln -sfn "$PWD/dist/agent/main.js" /usr/local/bin/agent
fi

demo=$(mktemp -d /tmp/agent-demo-XXXXXX)
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port=$(free_port)
step "S3 API on http://127.0.0.1:$port (s3rver, data in $demo/s3)"
mkdir -p "$demo/s3"
[ "$keep" = yes ] && export AGENT_DEMO_KEEP=1
# its output goes to a file: with --keep it outlives this script and must not hold this terminal's output
NODE_OPTIONS=--openssl-legacy-provider node tests/helpers/s3rver-main.mjs "$port" "$demo/s3" fleet-reports releases >"$demo/s3.log" 2>&1 &
s3_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# the fleet: hosts on this machine, each with its own EC2 metadata (instance id, private IP, zone):
# three for (a) and (b), five web hosts for the rollout of (c)
declare -A imds
hosts=(demo-app-1 demo-app-2 demo-base-1 demo-web-1 demo-web-2 demo-web-3 demo-web-4 demo-web-5)
ips=(10.0.1.11 10.0.2.12 10.0.1.21 10.0.1.31 10.0.2.32 10.0.1.33 10.0.2.34 10.0.1.35)
zones=(eu-west-1a eu-west-1b eu-west-1a eu-west-1a eu-west-1b eu-west-1a eu-west-1b eu-west-1a)
specs=()
for i in "${!hosts[@]}"; do
  imds[${hosts[$i]}]=$(free_port)
  specs+=("${imds[${hosts[$i]}]}=i-0${hosts[$i]//[^0-9a-z]/},${ips[$i]},${zones[$i]}")
done
node tests/demo/imds-main.mjs "${specs[@]}" >"$demo/imds.log" 2>&1 &
imds_pid=$!
stop_servers="kill $s3_pid $imds_pid"
if [ "$keep" = yes ]; then
  trap 'echo "the S3 server (pid $s3_pid) and the fake metadata (pid $imds_pid) are still up: stop them with  $stop_servers"' EXIT
else
  trap 'kill $s3_pid $imds_pid 2>/dev/null || true' EXIT
fi
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/${imds[demo-base-1]}") 2>/dev/null && break; sleep 0.1; done

# what an operator's shell would hold: the loopback S3's credentials, and a config naming the report bucket
cat > "$demo/env.sh" <<ENV
# . $demo/env.sh   then any agent command talks to the demo's S3, as host demo-app-1
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AGENT_CONFIG=$demo/demo-app-1.yaml FACTER_sandbox=$demo/demo-app-1/sandbox
export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:${imds[demo-app-1]}
ENV
# shellcheck source=/dev/null
. "$demo/env.sh"
unset AGENT_CONFIG FACTER_sandbox AWS_EC2_METADATA_SERVICE_ENDPOINT

write_config() { # host name, roles, source dir
  cat > "$demo/$1.yaml" <<YAML
instance_id: auto
roles: [$2]
state_dir: $demo/$1/state
stage_dir: $demo/$1/puppetstage
source:
  url: $3
report:
  bucket: fleet-reports
  endpoint: http://127.0.0.1:$port
  force_path_style: true
metrics:
  textfile: ""
YAML
}
# as_host NAME COMMAND...: an agent command on that host (its config, its metadata endpoint)
as_host() {
  local name=$1; shift
  AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:${imds[$name]}" FACTER_sandbox="$demo/$name/sandbox" \
    agent "$@" --config "$demo/$name.yaml"
}

step "(a) demo-base-1: the bundled sample tree manifests/ in --noop: what it would change on this host (nothing is changed)"
write_config demo-base-1 base "$repo/manifests"
as_host demo-base-1 register >/dev/null
show_exit as_host demo-base-1 run-now --noop

step "(b) demo-app-1 and demo-app-2: a demo tree that manages files only under $demo/<host>/sandbox"
cp -r tests/fixtures/trees/sandbox "$demo/dist"
for name in demo-app-1 demo-app-2; do
  mkdir -p "$demo/$name/sandbox"
  write_config "$name" app "$demo/dist"
done
echo "config: $demo/demo-app-1.yaml"; as_host demo-app-1 config check | sed -n '1,12p'; echo "  ..."

step "register the hosts in S3 (the daemon does this when it starts)"
for name in demo-app-1 demo-app-2; do as_host "$name" register && echo "$name registered"; done

step "first run on demo-app-1: applies the tree"
show_exit as_host demo-app-1 run-now
echo "sandbox/managed/motd: $(cat "$demo/demo-app-1/sandbox/managed/motd")"
as_host demo-app-2 run-now >/dev/null 2>&1 || true # its twin, so the fleet has two app hosts

step "someone edits a managed file by hand on demo-app-1"
echo "hand-edited" > "$demo/demo-app-1/sandbox/managed/motd"
echo "sandbox/managed/motd: $(cat "$demo/demo-app-1/sandbox/managed/motd")"

step "run-now --noop finds the drift and changes nothing"
show_exit as_host demo-app-1 run-now --noop
echo "sandbox/managed/motd: $(cat "$demo/demo-app-1/sandbox/managed/motd")"

step "run-now corrects it"
show_exit as_host demo-app-1 run-now
echo "sandbox/managed/motd: $(cat "$demo/demo-app-1/sandbox/managed/motd")"

step "agent status (demo-app-1)"
as_host demo-app-1 status

step "the fleet as an operator sees it: agent fleet status"
AGENT_CONFIG="$demo/demo-app-1.yaml" agent fleet status

step "(c) a rollout of a bad release on a small fleet (S3 source, signed releases), halted at the canary"
agent keygen --out "$demo/release" >/dev/null && echo "release key: $demo/release.key (the hosts trust $demo/release.pub)"
cp -r tests/fixtures/trees/sandbox "$demo/release-tree"
fleet_ids=(demo-web-1 demo-web-2 demo-web-3 demo-web-4 demo-web-5)
fleet_config() { # id, roles
  mkdir -p "$demo/fleet/$1/sandbox"
  cat > "$demo/fleet/$1.yaml" <<YAML
instance_id: auto
roles: [$2]
state_dir: $demo/fleet/$1/state
stage_dir: $demo/fleet/$1/puppetstage
source: {type: s3, bucket: releases, prefix: puppet, endpoint: "http://127.0.0.1:$port", force_path_style: true}
report: {bucket: fleet-reports, endpoint: "http://127.0.0.1:$port", force_path_style: true}
verify: {public_keys: [$demo/release.pub]}
metrics: {textfile: ""}
YAML
}
# run-now on every fleet host at once; one line each: exit code, result, release, rollback
fleet_run() {
  local pids=()
  for id in "${fleet_ids[@]}"; do
    (FACTER_sandbox="$demo/fleet/$id/sandbox" AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:${imds[$id]}" \
      agent run-now --json --config "$demo/fleet/$id.yaml" > "$demo/fleet/$id.last.json" 2>/dev/null || true) &
    pids+=($!)
  done
  wait "${pids[@]}" # not a bare wait: the S3 server is a background job too
  for id in "${fleet_ids[@]}"; do
    # shellcheck disable=SC2016 # JavaScript, not shell
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const back = r.apply.rolled_back_from ? `, tried ${r.apply.rolled_back_from.slice(0, 12)} and rolled back` : "";
      console.log(`  ${r.instance.id}: exit ${r.exit_code}, ${r.result}, applied ${r.apply.release_id.slice(0, 12)}${back}`);
    ' "$demo/fleet/$id.last.json"
  done
}
for id in "${fleet_ids[@]}"; do fleet_config "$id" "web"; done
fleet_config demo-web-1 "web, canary"
publisher=(--key "$demo/release.key" --config "$demo/fleet/demo-web-1.yaml")
agent publish "$demo/release-tree" "${publisher[@]}" --to s3://releases/puppet | tail -n 1
for id in "${fleet_ids[@]}"; do AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:${imds[$id]}" agent register --config "$demo/fleet/$id.yaml"; done
echo "every host takes the good release:"; fleet_run

echo; echo "a change that breaks on apply (a service that no longer exists), rolled out canary first:"
cp -r tests/fixtures/trees/sandbox-failing/. "$demo/release-tree/" # the overlay: only its site.pp differs
# plan (SPEC §10): every host nooped the candidate against its real state; nothing is applied
echo "first a plan: each host stages the candidate beside its active release and runs puppet --noop on it"
plan_id=$(agent plan start "$demo/release-tree" "${publisher[@]}" --role web)
plan_pids=()
for id in "${fleet_ids[@]}"; do
  (FACTER_sandbox="$demo/fleet/$id/sandbox" agent run-now --plan "$plan_id" --config "$demo/fleet/$id.yaml" >/dev/null 2>&1 || true) &
  plan_pids+=($!)
done
wait "${plan_pids[@]}" # the daemon answers at its next poll; `agent fleet run-now --plan` asks over ssh
show_exit agent plan show "$plan_id" --config "$demo/fleet/demo-web-1.yaml" # also --by role|host, --json
echo "(a noop cannot know that the command fails: the canary below finds out)"
agent rollout start --plan "$plan_id" "${publisher[@]}" --canary-role canary --steps 20,100 --bake 10s
echo; echo "the hosts poll (the daemon would, within one schedule tick): only the canary is exposed"
fleet_run
echo; echo "the controller (agent-rollout.timer runs this every minute on the publisher host):"
agent rollout tick "${publisher[@]}"
echo; agent rollout status --config "$demo/fleet/demo-web-1.yaml"
echo; echo "hosts poll again: the canary stays on the release that worked, nobody else ever ran the bad one"
fleet_run
echo; agent fleet status --config "$demo/fleet/demo-web-1.yaml" --role web

step "reports in S3 (bucket fleet-reports)"
AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true node --input-type=module -e "
import { S3Client, ListObjectsV2Command } from '@aws-sdk/client-s3';
const s3 = new S3Client({ endpoint: 'http://127.0.0.1:$port', forcePathStyle: true, region: 'us-east-1' });
const page = await s3.send(new ListObjectsV2Command({ Bucket: 'fleet-reports' }));
for (const o of page.Contents ?? []) console.log('s3://fleet-reports/' + o.Key, o.Size + ' bytes');
"
step "the fleet dashboard: a static site built from S3 (agent fleet dashboard --serve serves it on 127.0.0.1)"
agent fleet dashboard --out "$demo/dashboard" --bucket fleet-reports --endpoint "http://127.0.0.1:$port" --path-style --config "$demo/fleet/demo-web-1.yaml"
echo "open it in a browser: file://$demo/dashboard/index.html"

step "what to try next"
if [ "$keep" = yes ]; then
  cat <<NEXT
The S3 server is still up. In a shell:
  . $demo/env.sh                  # the demo's S3 credentials, and AGENT_CONFIG=demo-app-1's config
  agent status                    # this host: last run, last apply, lock, spool
  agent fleet status              # the fleet from S3 (--role app, --json, --stale 1h)
  agent fleet hosts --role app    # one address a line, for ssh loops
  agent run-now --noop            # what would change on demo-app-1 now
  agent run-now --help            # every command: flags, defaults, exit codes, an example
NEXT
  echo "  agent fleet dashboard --serve   # the fleet in a browser, on http://127.0.0.1:8080/"
  echo "stop the servers with:  $stop_servers"
else
  echo "The S3 server stops with this script. Run it again with --keep to keep it, then:"
  echo "  . <demo dir>/env.sh && agent fleet status     (and agent status, agent fleet hosts, agent run-now --help)"
fi
echo "Your own hosts: copy ami/agent.yaml.template to /etc/agent/agent.yaml (README \"Configuration\"), then agent config check."
echo
echo "demo files are in $demo (remove with: rm -rf $demo)"
