#!/bin/sh
# azd postdeploy hook: publish the app to the standby function app as well. azd exports the template outputs as
# environment variables; CUTOVER_STANDBY_FUNCTION_APP_NAME is empty when no standby is deployed.
set -eu
if [ -z "${CUTOVER_STANDBY_FUNCTION_APP_NAME:-}" ]; then
  echo "deploy-standby: no standby control plane configured; nothing to do"
  exit 0
fi
if ! command -v func >/dev/null 2>&1; then
  echo "deploy-standby: Azure Functions Core Tools ('func') is required to publish to the standby" \
    "'$CUTOVER_STANDBY_FUNCTION_APP_NAME'; install it or run: func azure functionapp publish $CUTOVER_STANDBY_FUNCTION_APP_NAME" >&2
  exit 1
fi
npm run build
func azure functionapp publish "$CUTOVER_STANDBY_FUNCTION_APP_NAME"
