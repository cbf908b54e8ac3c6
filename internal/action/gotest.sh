#!/usr/bin/env bash
# The test step of action.yml: runs go test -race -json on the inputs'
# packages with STALLPROOF_REPORT_DIR (absolute) and RAPID_CHECKS set,
# prints go test's text output as it goes, and keeps the go test -json
# output and the fail files rapid wrote during the run in the report
# directory. It writes report-dir, json and result (pass or fail) to
# $GITHUB_OUTPUT and exits 0 whatever the tests did (a later step fails the
# job), or 2 on a bad input. Tested by internal/action/gotest_test.go.
#
# Environment: INPUT_PACKAGES, INPUT_CHECKS, INPUT_REPORT_DIR, INPUT_SHARD,
# INPUT_TEST_FLAGS, INPUT_UPLOAD (the action's inputs); RUNNER_TEMP,
# GITHUB_OUTPUT (set by the runner); STALLPROOF_TOOL, the stallproof
# command (default: where action.yml builds it).
set -eo pipefail
tool="${STALLPROOF_TOOL:-$RUNNER_TEMP/stallproof-action/stallproof}"
mkdir -p "$RUNNER_TEMP/stallproof-action"
case "$INPUT_UPLOAD" in failure|always) ;; *)
  echo "::error title=stallproof::input upload is '$INPUT_UPLOAD'; want failure or always"; exit 2 ;;
esac
if [ -n "$INPUT_CHECKS" ]; then
  case "$INPUT_CHECKS" in *[!0-9]*|0*)
    echo "::error title=stallproof::input checks is '$INPUT_CHECKS'; want a positive whole number"; exit 2 ;;
  esac
  # rapid reads RAPID_CHECKS in every test binary; a -rapid.checks
  # flag would break packages that do not import rapid.
  export RAPID_CHECKS="$INPUT_CHECKS"
fi
if [ -n "$INPUT_SHARD" ]; then
  if ! [[ "$INPUT_SHARD" =~ ^[0-9]+/[0-9]+$ ]]; then
    echo "::error title=stallproof::input shard is '$INPUT_SHARD'; want i/n, as in 1/4"; exit 2
  fi
  export STALLPROOF_SHARD="$INPUT_SHARD"
fi
mkdir -p "$INPUT_REPORT_DIR"
STALLPROOF_REPORT_DIR="$(cd "$INPUT_REPORT_DIR" && pwd)"
export STALLPROOF_REPORT_DIR
json="$RUNNER_TEMP/stallproof-action/go-test.json"
{
  echo "report-dir=$STALLPROOF_REPORT_DIR"
  echo "json=$json"
} >> "$GITHUB_OUTPUT"
# Split on spaces and newlines (a YAML block of packages works too).
read -r -d '' -a packages <<< "$INPUT_PACKAGES" || true
read -r -d '' -a flags <<< "$INPUT_TEST_FLAGS" || true
marker="$RUNNER_TEMP/stallproof-action/started"
touch "$marker"
set +e
go test -race -json "${flags[@]}" "${packages[@]}" | tee "$json" | "$tool" testlog
status=${PIPESTATUS[0]}
set -e
# Keep the go test -json output (to merge shards' summaries) and the
# fail files rapid wrote during this run, under their package's path.
cp "$json" "$STALLPROOF_REPORT_DIR/go-test.json"
mapfile -d '' fails < <(find "$PWD" -path '*/testdata/rapid/*' -name '*.fail' \
  -newer "$marker" -not -path "$STALLPROOF_REPORT_DIR/*" -print0)
for f in "${fails[@]}"; do
  rel="${f#"$PWD"/}"
  mkdir -p "$STALLPROOF_REPORT_DIR/fail-files/$(dirname "$rel")"
  cp "$f" "$STALLPROOF_REPORT_DIR/fail-files/$rel"
done
if [ "$status" -eq 0 ]; then
  echo "result=pass" >> "$GITHUB_OUTPUT"
else
  echo "result=fail" >> "$GITHUB_OUTPUT"
fi
