#!/usr/bin/env bash
# The demo of README step 1, on a fresh Debian/Ubuntu machine as root: installs what is missing, starts
# an S3 API server on 127.0.0.1, and drives the real agent binary through the cycle. Touches nothing
# outside a temp directory except what step (a) *would* change: it runs in --noop mode.
set -euo pipefail
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

demo=$(mktemp -d /tmp/agent-demo-XXXXXX)
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
step "S3 API on http://127.0.0.1:$port (s3rver, data in $demo/s3)"
mkdir -p "$demo/s3"
NODE_OPTIONS=--openssl-legacy-provider node tests/helpers/s3rver-main.mjs "$port" "$demo/s3" fleet-reports releases >/dev/null &
s3_pid=$!
trap 'kill $s3_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

write_config() { # file, source dir, state dir
  cat > "$1" <<YAML
instance_id: demo-host-1
roles: [demo]
state_dir: $3/state
stage_dir: $3/puppetstage
source:
  url: $2
report:
  bucket: fleet-reports
  endpoint: http://127.0.0.1:$port
  force_path_style: true
metrics:
  textfile: ""
YAML
}

step "(a) the bundled sample tree manifests/ in --noop: what it would change on this host (nothing is changed)"
write_config "$demo/sample.yaml" "$repo/manifests" "$demo/sample"
sed -i "s/demo-host-1/demo-sample-host/" "$demo/sample.yaml"
show_exit agent run-now --noop --config "$demo/sample.yaml"

step "(b) a demo tree that manages files only under $demo/sandbox"
cp -r tests/fixtures/trees/e2e "$demo/dist"
mkdir -p "$demo/sandbox"
export FACTER_sandbox="$demo/sandbox"
write_config "$demo/agent.yaml" "$demo/dist" "$demo/host"
echo "config: $demo/agent.yaml"; agent config check --config "$demo/agent.yaml" | sed -n '1,12p'; echo "  ..."

step "register this host in S3 (the daemon does this when it starts)"
agent register --config "$demo/agent.yaml" && echo "registry/demo-host-1.json written"

step "first run: applies the tree"
show_exit agent run-now --config "$demo/agent.yaml"
echo "sandbox/managed/motd: $(cat "$demo/sandbox/managed/motd")"

step "someone edits a managed file by hand"
echo "hand-edited" > "$demo/sandbox/managed/motd"
echo "sandbox/managed/motd: $(cat "$demo/sandbox/managed/motd")"

step "run-now --noop finds the drift and changes nothing"
show_exit agent run-now --noop --config "$demo/agent.yaml"
echo "sandbox/managed/motd: $(cat "$demo/sandbox/managed/motd")"

step "run-now corrects it"
show_exit agent run-now --config "$demo/agent.yaml"
echo "sandbox/managed/motd: $(cat "$demo/sandbox/managed/motd")"

step "agent status"
agent status --config "$demo/agent.yaml"

step "the fleet as an operator sees it: agent fleet status"
agent fleet status --bucket fleet-reports --endpoint "http://127.0.0.1:$port" --path-style --config "$demo/agent.yaml"

step "(c) a rollout of a bad release on a small fleet (S3 source, signed releases), halted at the canary"
agent keygen --out "$demo/release" >/dev/null && echo "release key: $demo/release.key (the hosts trust $demo/release.pub)"
cp -r tests/fixtures/trees/e2e "$demo/release-tree"
fleet_ids=(demo-web-1 demo-web-2 demo-web-3 demo-web-4 demo-web-5)
fleet_config() { # id, roles
  mkdir -p "$demo/fleet/$1/sandbox"
  cat > "$demo/fleet/$1.yaml" <<YAML
instance_id: $1
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
    (FACTER_sandbox="$demo/fleet/$id/sandbox" agent run-now --json --config "$demo/fleet/$id.yaml" > "$demo/fleet/$id.last.json" 2>/dev/null || true) &
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
for id in "${fleet_ids[@]}"; do agent register --config "$demo/fleet/$id.yaml"; done
echo "every host takes the good release:"; fleet_run

echo; echo "a change that breaks on apply (a service that no longer exists), rolled out canary first:"
cp tests/fixtures/trees/e2e-failing/manifests/site.pp "$demo/release-tree/manifests/site.pp"
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
node --input-type=module -e "
import { S3Client, ListObjectsV2Command } from '@aws-sdk/client-s3';
const s3 = new S3Client({ endpoint: 'http://127.0.0.1:$port', forcePathStyle: true, region: 'us-east-1' });
const page = await s3.send(new ListObjectsV2Command({ Bucket: 'fleet-reports' }));
for (const o of page.Contents ?? []) console.log('s3://fleet-reports/' + o.Key, o.Size + ' bytes');
"
echo
echo "demo files are in $demo (remove with: rm -rf $demo)"
