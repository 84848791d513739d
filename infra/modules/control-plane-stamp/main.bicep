metadata name = 'Cutover control plane stamp'
metadata description = 'One region\'s complete control plane: user-assigned identity, host storage, Log Analytics + Application Insights, and the Flex Consumption function app with its app settings. main.bicep deploys a primary stamp and, optionally, a standby stamp in a second region.'

import { entraWebhookAuthType } from '../types.bicep'

@description('Required. Short name of the deployment (azd environment name); used to derive resource names.')
@minLength(1)
@maxLength(40)
param environmentName string

@description('Required. `primary` or `standby`: part of every resource name, so both stamps can share a resource group.')
@allowed(['primary', 'standby'])
param stampRole string

@description('Required. Function app name (globally unique host name prefix); main.bicep derives it so the action group can use it.')
@minLength(2)
@maxLength(60)
param appName string

@description('Required. Region of this stamp. main.bicep has already checked that it is not a protected workload region.')
param location string

@description('Required. Cutover settings that do not depend on this stamp (see src/config/settings.ts).')
param settings {
  @description('Required. CUTOVER_TOPOLOGY_PATH: topology file path relative to the app root.')
  topologyPath: string
  @description('Required. CUTOVER_TASK_HUB: Durable task hub name (3-45 letters and digits, starting with a letter).')
  taskHubName: string
  @description('Required. CUTOVER_PROBE_SCHEDULE: NCRONTAB (six fields) of the health probes.')
  probeSchedule: string
  @description('Required. CUTOVER_ALERT_CONFIRM: confirm fired alerts with metrics before failing over.')
  alertConfirm: bool
  @description('Required. CUTOVER_AUTO_COOLDOWN_SECONDS: minimum seconds between automatic failovers of a workload.')
  autoCooldownSeconds: int
}

@description('Optional. Instance memory size in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Optional. Maximum number of instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Always-ready instances for HTTP triggers.')
@minValue(0)
@maxValue(10)
param alwaysReadyHttpInstances int = 1

@description('Optional. Zone-redundant plan and storage (needs a region with Flex zone redundancy).')
param zoneRedundant bool = false

@description('Optional. App Service authentication for Entra-secured Azure Monitor webhooks.')
param entraWebhookAuth entraWebhookAuthType?

@description('Optional. Tags applied to every resource of the stamp.')
param tags object = {}

@description('Optional. Extra tags for the function app only (azd-service-name goes on the primary).')
param appTags object = {}

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, stampRole, location))
var short = stampRole == 'primary' ? 'p' : 's'
var names = {
  identity: 'id-cutover-${environmentName}-${stampRole}'
  workspace: 'log-cutover-${environmentName}-${stampRole}'
  appInsights: 'appi-cutover-${environmentName}-${stampRole}'
  storage: 'stcut${short}${take(token, 18)}'
  plan: 'plan-cutover-${environmentName}-${stampRole}'
  app: appName
  deploymentContainer: 'app-package'
}

// Built-in role definition IDs (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
  tags: tags
}

module monitoring '../monitoring/main.bicep' = {
  name: 'cutover-${stampRole}-monitoring'
  params: {
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    location: location
    tags: tags
  }
}

module storage '../host-storage/main.bicep' = {
  name: 'cutover-${stampRole}-storage'
  params: {
    name: names.storage
    location: location
    deploymentContainerName: names.deploymentContainer
    principalId: identity.properties.principalId
    identityResourceId: identity.id
    skuName: zoneRedundant ? 'Standard_ZRS' : 'Standard_LRS'
    tags: tags
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: names.appInsights
  dependsOn: [monitoring]
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: names.workspace
  dependsOn: [monitoring]
}

// Entra-authenticated telemetry: the identity publishes to its own Application Insights only.
resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    description: 'Cutover control plane: Entra-authenticated telemetry ingestion'
  }
}

// CUTOVER_LOG_WORKSPACE_ID: Cutover reads its own probe history and confirms alerts from this workspace.
resource workspaceReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, identity.id, roles.logAnalyticsReader)
  scope: workspace
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.logAnalyticsReader)
    description: 'Cutover control plane: query its own probe history'
  }
}

// Exactly the `setInAzure: true` settings of src/config/settings.ts (test/infra compares the two).
var cutoverSettings = {
  CUTOVER_TOPOLOGY_PATH: settings.topologyPath
  CUTOVER_TASK_HUB: settings.taskHubName
  CUTOVER_STATE_ACCOUNT_URL: storage.outputs.blobEndpoint
  AZURE_CLIENT_ID: identity.properties.clientId
  CUTOVER_LOG_WORKSPACE_ID: monitoring.outputs.workspaceCustomerId
  CUTOVER_CREDENTIAL: 'managed-identity'
  CUTOVER_PROBE_SCHEDULE: settings.probeSchedule
  // ARM's string(bool) gives 'True'/'False', which the app's boolean schema rejects.
  CUTOVER_ALERT_CONFIRM: settings.alertConfirm ? 'true' : 'false'
  CUTOVER_AUTO_COOLDOWN_SECONDS: string(settings.autoCooldownSeconds)
}

module app '../function-app/main.bicep' = {
  name: 'cutover-${stampRole}-app'
  params: {
    name: names.app
    planName: names.plan
    location: location
    identityResourceId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsName: names.appInsights
    cutoverSettings: cutoverSettings
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    zoneRedundant: zoneRedundant
    entraWebhookAuth: entraWebhookAuth
    tags: union(tags, appTags)
  }
}

@description('Name of the function app.')
output name string = app.outputs.name

@description('Resource ID of the function app.')
output resourceId string = app.outputs.resourceId

@description('Default host name of the function app.')
output defaultHostName string = app.outputs.defaultHostName

@description('Region of the stamp.')
output location string = location

@description('Principal (object) ID of the stamp\'s managed identity; workload roles are granted to it.')
output principalId string = identity.properties.principalId

@description('Client ID of the stamp\'s managed identity.')
output clientId string = identity.properties.clientId

@description('Resource ID of the stamp\'s Log Analytics workspace.')
output workspaceResourceId string = monitoring.outputs.workspaceResourceId
