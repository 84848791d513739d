#!/usr/bin/env bash
# Prints the path of a Bicep CLI executable on stdout (diagnostics go to stderr). Used by .ci/bicep.sh and by
# test/infra (one way to get the CLI for CI and tests). Order: `bicep` on PATH, then the CLI that `az bicep` manages,
# then the pinned NuGet package Azure.Bicep.CommandLine.linux-x64 restored by `dotnet restore` into
# .ci/bicep/packages (repo-local, restored at most once per clone). Non-interactive; exits non-zero with a reason.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="$here/bicep-cli.proj"
version="$(sed -n 's:.*<BicepVersion>\(.*\)</BicepVersion>.*:\1:p' "$project")"
nuget_bin="$here/packages/azure.bicep.commandline.linux-x64/$version/tools/bicep"

if [ "${CUTOVER_BICEP_SOURCE:-auto}" = "auto" ]; then
  if command -v bicep >/dev/null 2>&1; then
    command -v bicep
    exit 0
  fi
  if command -v az >/dev/null 2>&1 && az bicep version >/dev/null 2>&1; then
    az_bin="${AZURE_CONFIG_DIR:-$HOME/.azure}/bin/bicep"
    if [ -x "$az_bin" ]; then
      echo "$az_bin"
      exit 0
    fi
  fi
fi

if [ ! -x "$nuget_bin" ]; then
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "find-bicep: no 'bicep' or 'az bicep' on PATH and no 'dotnet' to restore Azure.Bicep.CommandLine.linux-x64 $version" >&2
    exit 1
  fi
  echo "find-bicep: restoring Azure.Bicep.CommandLine.linux-x64 $version with dotnet into $here/packages" >&2
  if ! dotnet restore "$project" --packages "$here/packages" --nologo --verbosity quiet >&2; then
    echo "find-bicep: 'dotnet restore' of $project failed (is a NuGet source reachable?)" >&2
    exit 1
  fi
  if [ ! -f "$nuget_bin" ]; then
    echo "find-bicep: restore succeeded but $nuget_bin is missing (package layout changed?)" >&2
    exit 1
  fi
  chmod +x "$nuget_bin"
fi
echo "$nuget_bin"
