metadata name = 'Cutover action group'
metadata description = 'Action group whose single webhook posts the Common Alert Schema to the active control plane\'s POST /api/alerts, authenticated with a function key, and additionally with an Entra token when a secure webhook is configured.'

import { entraWebhookAuthType } from '../types.bicep'

@description('Required. Action group name.')
param name string

@description('Required. Short name shown in notifications (at most 12 characters).')
@maxLength(12)
param shortName string

@description('Required. Name of the function app (in this resource group) that receives the alerts.')
param functionAppName string

@description('Optional. Entra app registration for a secure webhook; omit for function-key-only authentication.')
param entraWebhookAuth entraWebhookAuthType?

@description('Optional. Tags applied to the action group.')
param tags object = {}

resource site 'Microsoft.Web/sites@2024-11-01' existing = {
  name: functionAppName
}

// The host's default function key authorizes function-level routes. It is read at deployment time and lives only in
// this receiver's URI (never in an output or app setting). Rotate it with `az functionapp keys set` and redeploy.
var webhookUri = 'https://${site.properties.defaultHostName}/api/alerts?code=${listKeys('${site.id}/host/default', '2024-11-01').functionKeys.default}'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: name
  location: 'global'
  tags: tags
  properties: {
    groupShortName: shortName
    enabled: true
    webhookReceivers: [
      entraWebhookAuth == null
        ? {
            name: 'cutover-alerts'
            serviceUri: webhookUri
            useCommonAlertSchema: true
            useAadAuth: false
          }
        : {
            name: 'cutover-alerts'
            serviceUri: webhookUri
            useCommonAlertSchema: true
            useAadAuth: true
            objectId: entraWebhookAuth!.applicationObjectId
            identifierUri: entraWebhookAuth!.identifierUri
            tenantId: entraWebhookAuth!.tenantId
          }
    ]
  }
}

@description('Name of the action group.')
output name string = actionGroup.name

@description('Resource ID of the action group.')
output resourceId string = actionGroup.id
