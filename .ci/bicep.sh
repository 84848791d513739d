#!/usr/bin/env bash
# Bicep CI step (called by .ci/run when infra/main.bicep exists, and by `npm run infra:build`).
#   bash .ci/bicep.sh          build every entry point into infra/out/, then lint every Bicep file
#   bash .ci/bicep.sh build    build only
# Fails on any error *or warning*: the linter rules are raised to errors in infra/bicepconfig.json, and compiler
# warnings (BCPxxx) are caught here from the output.
set -euo pipefail
cd "$(dirname "$0")/.."
exec </dev/null

mode="${1:-all}"
case "$mode" in all | build) ;; *)
  echo "usage: bash .ci/bicep.sh [all|build]" >&2
  exit 2
  ;;
esac

bicep="$(bash .ci/bicep/find-bicep.sh)"
echo "bicep: $bicep ($("$bicep" --version))"

# Entry points: the control plane and every example under infra/examples/<name>/main.bicep.
entries=(infra/main.bicep)
while IFS= read -r f; do entries+=("$f"); done < <(find infra/examples -name main.bicep | sort)

out=infra/out
rm -rf "$out"
mkdir -p "$out"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
problems=0

run() {
  # Runs a bicep command, shows its output, and counts warnings and errors in it.
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    echo "FAILED: ${*:2}" >&2
    problems=$((problems + 1))
    return 0
  fi
  cat "$log"
  if grep -Eq ': (Warning|Error) ' "$log"; then
    echo "DIAGNOSTICS: ${*:2}" >&2
    problems=$((problems + 1))
  fi
}

for entry in "${entries[@]}"; do
  rel="${entry#infra/}"
  name="${rel%.bicep}"
  mkdir -p "$out/$(dirname "$rel")"
  echo "build $entry -> $out/$name.json"
  run "$bicep" build "$entry" --outfile "$out/$name.json"
  params="${entry%.bicep}.bicepparam"
  if [ -f "$params" ]; then
    echo "build-params $params -> $out/$name.parameters.json"
    run "$bicep" build-params "$params" --outfile "$out/$name.parameters.json"
  fi
done

if [ "$mode" = "all" ]; then
  echo "lint infra/**/*.bicep and infra/**/*.bicepparam"
  run "$bicep" lint --pattern 'infra/**/*.bicep'
  run "$bicep" lint --pattern 'infra/**/*.bicepparam'
fi

if [ "$problems" -ne 0 ]; then
  echo "bicep: $problems step(s) reported errors or warnings" >&2
  exit 1
fi
if [ "$mode" = "all" ]; then
  echo "bicep: ${#entries[@]} entry point(s) built into $out/ and every Bicep file linted, without warnings"
else
  echo "bicep: ${#entries[@]} entry point(s) built into $out/ without warnings"
fi
