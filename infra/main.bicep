metadata name = 'Cutover control plane'
metadata description = 'Deploys Cutover (Azure Functions on Flex Consumption, Node 22) into a control plane region that none of the protected workloads use, an optional standby in a second such region, least-privilege access to the workload resources it drives, and the alert wiring that calls POST /api/alerts.'

import {
  aksClusterRefType
  blobContainerRefType
  entraWebhookAuthType
  frontDoorRefType
  metricAlertRuleType
  mlWorkspaceRefType
  prometheusAlertRuleType
} from 'modules/types.bicep'

// ---------------------------------------------------------------------------------------------------------------
// Control plane placement

@description('Required. Name of the environment (azd environment name); part of every resource name.')
@minLength(1)
@maxLength(20)
param environmentName string

@description('Required. Region of the control plane. It must not be one of the regions it protects.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Required. Workload regions Cutover protects (the regions of the example topology). Regions of aksClusters, blobContainers and mlWorkspaces are added automatically.')
@minLength(1)
param protectedRegions string[]

@description('Optional. Region of a standby control plane (empty: none). Must differ from location and from every protected region.')
param standbyLocation string = ''

@description('Optional. Which stamp the action group calls: flip to `standby` and redeploy to move alert handling.')
@allowed(['primary', 'standby'])
param activeControlPlane string = 'primary'

// ---------------------------------------------------------------------------------------------------------------
// App settings (src/config/settings.ts)

@description('Optional. CUTOVER_TOPOLOGY_PATH: topology file, relative to the app root of the deployment package.')
param topologyPath string = 'examples/topology.yaml'

@description('Optional. CUTOVER_TASK_HUB: Durable task hub (3-45 letters and digits, starting with a letter).')
@minLength(3)
@maxLength(45)
param taskHubName string = 'Cutover'

@description('Optional. CUTOVER_PROBE_SCHEDULE: NCRONTAB (six fields, seconds first) of the health probes.')
param probeSchedule string = '*/10 * * * * *'

@description('Optional. CUTOVER_ALERT_CONFIRM: confirm a fired alert with Azure Monitor metrics before failing over.')
param alertConfirm bool = false

@description('Optional. CUTOVER_AUTO_COOLDOWN_SECONDS: minimum seconds between automatic failovers of one workload.')
@minValue(1)
param autoCooldownSeconds int = 1800

// ---------------------------------------------------------------------------------------------------------------
// Hosting

@description('Optional. Flex Consumption instance memory in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Optional. Flex Consumption maximum instance count.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Always-ready instances for HTTP triggers (webhook and health gate latency).')
@minValue(0)
@maxValue(10)
param alwaysReadyHttpInstances int = 1

@description('Optional. Zone-redundant Flex plan and storage (the region must support Flex zone redundancy).')
param zoneRedundant bool = false

// ---------------------------------------------------------------------------------------------------------------
// What Cutover acts on (existing resources in this subscription; see examples/topology.yaml)

@description('Optional. AKS clusters whose zone-pinned GPU pools Cutover scales.')
param aksClusters aksClusterRefType[] = []

@description('Optional. Front Door profiles whose origins Cutover changes.')
param frontDoors frontDoorRefType[] = []

@description('Optional. Model store (readWrite) and checkpoint (read) containers.')
param blobContainers blobContainerRefType[] = []

@description('Optional. Azure ML workspaces where training jobs are resubmitted.')
param mlWorkspaces mlWorkspaceRefType[] = []

// ---------------------------------------------------------------------------------------------------------------
// Alert wiring

@description('Optional. Entra app registration for a secure webhook; omit for function-key-only authentication.')
param entraWebhookAuth entraWebhookAuthType?

@description('Optional. Metric alert rules that call Cutover (see main.bicepparam for origin health, 5xx and latency).')
param metricAlertRules metricAlertRuleType[] = []

@description('Optional. Prometheus alert rules that call Cutover (GPU node readiness per zone).')
param prometheusAlertRules prometheusAlertRuleType[] = []

@description('Optional. Azure Monitor workspace holding the clusters\' Prometheus metrics (needed with prometheusAlertRules).')
param azureMonitorWorkspaceResourceId string = ''

@description('Optional. Region of the Azure Monitor workspace (the Prometheus rule group lives there).')
param azureMonitorWorkspaceLocation string = location

@description('Optional. Tags applied to every resource.')
param tags object = {}

// ---------------------------------------------------------------------------------------------------------------
// Validation: the control plane must survive the loss of any region it protects.

func normalizeRegion(region string) string => toLower(replace(region, ' ', ''))

var guardedRegions = union(
  map(protectedRegions, r => normalizeRegion(r)),
  map(aksClusters, c => normalizeRegion(c.region)),
  map(blobContainers, c => normalizeRegion(c.region)),
  map(mlWorkspaces, w => normalizeRegion(w.region))
)
var hasStandby = !empty(standbyLocation)

var controlPlaneLocation = contains(guardedRegions, normalizeRegion(location))
  ? fail('location \'${location}\' is a protected workload region (${join(guardedRegions, ', ')}); the control plane must run elsewhere.')
  : location
var standbyControlPlaneLocation = !hasStandby
  ? ''
  : contains(guardedRegions, normalizeRegion(standbyLocation))
      ? fail('standbyLocation \'${standbyLocation}\' is a protected workload region (${join(guardedRegions, ', ')}).')
      : normalizeRegion(standbyLocation) == normalizeRegion(location)
          ? fail('standbyLocation must differ from location (\'${location}\').')
          : standbyLocation
var activeStamp = activeControlPlane == 'standby' && !hasStandby
  ? fail('activeControlPlane is \'standby\' but no standbyLocation is set.')
  : activeControlPlane

// ---------------------------------------------------------------------------------------------------------------
// Control plane stamps

var baseTags = union(tags, { 'azd-env-name': environmentName, application: 'cutover' })
var stampSettings = {
  topologyPath: topologyPath
  taskHubName: taskHubName
  probeSchedule: probeSchedule
  alertConfirm: alertConfirm
  autoCooldownSeconds: autoCooldownSeconds
}

// Derived from the inputs only, so the action group can name the app before the stamp has deployed.
var appNames = {
  primary: 'func-cutover-${environmentName}-p-${take(uniqueString(subscription().id, resourceGroup().id, environmentName, 'primary'), 8)}'
  standby: 'func-cutover-${environmentName}-s-${take(uniqueString(subscription().id, resourceGroup().id, environmentName, 'standby'), 8)}'
}

module primary 'modules/control-plane-stamp/main.bicep' = {
  name: 'cutover-primary'
  params: {
    environmentName: environmentName
    stampRole: 'primary'
    appName: appNames.primary
    location: controlPlaneLocation
    settings: stampSettings
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    zoneRedundant: zoneRedundant
    entraWebhookAuth: entraWebhookAuth
    tags: baseTags
    appTags: { 'azd-service-name': 'cutover' }
  }
}

module standby 'modules/control-plane-stamp/main.bicep' = if (hasStandby) {
  name: 'cutover-standby'
  params: {
    environmentName: environmentName
    stampRole: 'standby'
    appName: appNames.standby
    location: standbyControlPlaneLocation
    settings: stampSettings
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    zoneRedundant: zoneRedundant
    entraWebhookAuth: entraWebhookAuth
    tags: baseTags
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Least-privilege access to the workloads, granted to every stamp's identity, each scoped to one resource.

var principalIds = hasStandby ? [primary.outputs.principalId, standby!.outputs.principalId] : [primary.outputs.principalId]
var principalKeys = map(
  hasStandby ? ['primary', 'standby'] : ['primary'],
  role => resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-cutover-${environmentName}-${role}')
)

var aksResourceGroups = union(map(aksClusters, c => c.resourceGroup), [])
module aksAccess 'modules/aks-pool-operator/main.bicep' = [
  for rg in aksResourceGroups: {
    name: 'cutover-aks-${uniqueString(rg)}'
    scope: resourceGroup(rg)
    params: {
      clusterNames: map(filter(aksClusters, c => c.resourceGroup == rg), c => c.name)
      principalIds: principalIds
      principalKeys: principalKeys
    }
  }
]

var frontDoorResourceGroups = union(map(frontDoors, f => f.resourceGroup), [])
module frontDoorAccess 'modules/front-door-operator/main.bicep' = [
  for rg in frontDoorResourceGroups: {
    name: 'cutover-afd-${uniqueString(rg)}'
    scope: resourceGroup(rg)
    params: {
      standardProfileNames: map(filter(frontDoors, f => f.resourceGroup == rg && f.kind == 'standard'), f => f.name)
      classicFrontDoorNames: map(filter(frontDoors, f => f.resourceGroup == rg && f.kind == 'classic'), f => f.name)
      principalIds: principalIds
      principalKeys: principalKeys
    }
  }
]

var storageResourceGroups = union(map(blobContainers, c => c.resourceGroup), [])
module blobAccess 'modules/blob-data-access/main.bicep' = [
  for rg in storageResourceGroups: {
    name: 'cutover-blob-${uniqueString(rg)}'
    scope: resourceGroup(rg)
    params: {
      containers: map(
        filter(blobContainers, c => c.resourceGroup == rg),
        c => { accountName: c.accountName, containerName: c.containerName, access: c.access }
      )
      principalIds: principalIds
      principalKeys: principalKeys
    }
  }
]

var mlResourceGroups = union(map(mlWorkspaces, w => w.resourceGroup), [])
module mlAccess 'modules/ml-job-submitter/main.bicep' = [
  for rg in mlResourceGroups: {
    name: 'cutover-ml-${uniqueString(rg)}'
    scope: resourceGroup(rg)
    params: {
      workspaceNames: map(filter(mlWorkspaces, w => w.resourceGroup == rg), w => w.name)
      principalIds: principalIds
      principalKeys: principalKeys
    }
  }
]

// ---------------------------------------------------------------------------------------------------------------
// Alert wiring: Azure Monitor -> action group -> POST /api/alerts on the active stamp.

module actionGroup 'modules/action-group/main.bicep' = {
  name: 'cutover-action-group'
  params: {
    name: 'ag-cutover-${environmentName}'
    shortName: 'cutover'
    functionAppName: appNames[activeStamp]
    entraWebhookAuth: entraWebhookAuth
    tags: baseTags
  }
  dependsOn: [primary, standby]
}

module alertRules 'modules/alert-rules/main.bicep' = if (!empty(metricAlertRules) || !empty(prometheusAlertRules)) {
  name: 'cutover-alert-rules'
  params: {
    actionGroupResourceId: actionGroup.outputs.resourceId
    metricRules: metricAlertRules
    prometheusRules: prometheusAlertRules
    azureMonitorWorkspaceResourceId: azureMonitorWorkspaceResourceId
    location: azureMonitorWorkspaceLocation
    tags: baseTags
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs (azd stores them in the environment). No keys or secrets.

@description('Region of the primary control plane.')
output AZURE_LOCATION string = controlPlaneLocation

@description('Name of the primary function app (azd deploys the `cutover` service to it).')
output CUTOVER_FUNCTION_APP_NAME string = primary.outputs.name

@description('Base URL of the primary control plane API.')
output CUTOVER_API_BASE_URL string = 'https://${primary.outputs.defaultHostName}/api'

@description('Name of the standby function app (empty without a standby); the postdeploy hook publishes to it.')
output CUTOVER_STANDBY_FUNCTION_APP_NAME string = hasStandby ? standby!.outputs.name : ''

@description('Base URL of the standby control plane API (empty without a standby).')
output CUTOVER_STANDBY_API_BASE_URL string = hasStandby ? 'https://${standby!.outputs.defaultHostName}/api' : ''

@description('Which stamp receives alerts.')
output CUTOVER_ACTIVE_CONTROL_PLANE string = activeStamp

@description('Resource ID of the action group that calls POST /api/alerts.')
output CUTOVER_ACTION_GROUP_ID string = actionGroup.outputs.resourceId

@description('Principal IDs of the control plane identities (for extra role assignments).')
output CUTOVER_PRINCIPAL_IDS string[] = principalIds
