#!/usr/bin/env bash
# npm run test:faults: the fault-injection suite (tests/faults/*.fault.ts, real binary, real tools),
# then one summary table and the secrets check. Expects a built dist/ (the npm script builds first).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FAULTS_RESULTS="$work/results.jsonl" FAULTS_CAPTURE="$work/capture"
FAULTS_AWS_SECRET="faultsecret$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
export FAULTS_AWS_SECRET
NODE_OPTIONS='--experimental-vm-modules --disable-warning=ExperimentalWarning' npx jest "$@" --testMatch '<rootDir>/tests/faults/**/*.fault.ts'
status=$?
node dist/tests/faults/summary.js "$FAULTS_RESULTS" "$FAULTS_CAPTURE" || status=1
exit "$status"
