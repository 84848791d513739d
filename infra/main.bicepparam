// Example parameters: the resources of examples/topology.yaml. Edit the lists to match your topology before
// `azd up`; every resource listed here must already exist (Cutover is granted access to it, never creates it).
using 'main.bicep'

var subscriptionId = readEnvironmentVariable('AZURE_SUBSCRIPTION_ID', '6f1c2b7e-9a55-4c1e-8d2a-3e0f4b5a6c7d')
var edge = '/subscriptions/${subscriptionId}/resourceGroups/rg-cutover-edge/providers'
var afdChat = '${edge}/Microsoft.Cdn/profiles/afd-chat'
var fdChatLite = '${edge}/Microsoft.Network/frontDoors/fd-chat-lite'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'cutover')
// Neither eastus2, westus3, centralus, swedencentral nor francecentral: the control plane must outlive them.
param location = readEnvironmentVariable('AZURE_LOCATION', 'northcentralus')
param standbyLocation = readEnvironmentVariable('CUTOVER_STANDBY_LOCATION', 'eastus')
param activeControlPlane = 'primary'
param protectedRegions = ['eastus2', 'westus3', 'centralus', 'swedencentral', 'francecentral']

param topologyPath = 'examples/topology.yaml'
param taskHubName = 'Cutover'
param probeSchedule = '*/10 * * * * *'
param alertConfirm = false
param autoCooldownSeconds = 1800

param aksClusters = [
  { resourceGroup: 'rg-chat-eastus2', name: 'aks-chat-eastus2', region: 'eastus2' }
  { resourceGroup: 'rg-chat-westus3', name: 'aks-chat-westus3', region: 'westus3' }
  { resourceGroup: 'rg-lite-centralus', name: 'aks-lite-centralus', region: 'centralus' }
  { resourceGroup: 'rg-lite-swedencentral', name: 'aks-lite-sweden', region: 'swedencentral' }
  { resourceGroup: 'rg-lite-francecentral', name: 'aks-lite-france', region: 'francecentral' }
]

param frontDoors = [
  { kind: 'standard', resourceGroup: 'rg-cutover-edge', name: 'afd-chat' }
  { kind: 'classic', resourceGroup: 'rg-cutover-edge', name: 'fd-chat-lite' }
]

param blobContainers = [
  { resourceGroup: 'rg-chat-eastus2', accountName: 'stmodelseastus2', containerName: 'models', access: 'readWrite', region: 'eastus2' }
  { resourceGroup: 'rg-chat-westus3', accountName: 'stmodelswestus3', containerName: 'models', access: 'readWrite', region: 'westus3' }
  { resourceGroup: 'rg-lite-centralus', accountName: 'stmodelscentralus', containerName: 'models', access: 'readWrite', region: 'centralus' }
  { resourceGroup: 'rg-lite-swedencentral', accountName: 'stmodelssweden', containerName: 'models', access: 'readWrite', region: 'swedencentral' }
  { resourceGroup: 'rg-lite-francecentral', accountName: 'stmodelsfrance', containerName: 'models', access: 'readWrite', region: 'francecentral' }
  { resourceGroup: 'rg-ml-eastus2', accountName: 'stckpteastus2', containerName: 'checkpoints', access: 'read', region: 'eastus2' }
  { resourceGroup: 'rg-ml-westus3', accountName: 'stckptwestus3', containerName: 'checkpoints', access: 'read', region: 'westus3' }
]

param mlWorkspaces = [
  { resourceGroup: 'rg-ml-eastus2', name: 'mlw-train-eastus2', region: 'eastus2' }
  { resourceGroup: 'rg-ml-westus3', name: 'mlw-train-westus3', region: 'westus3' }
]

// Front Door Standard/Premium per-origin signals. The `Origin` dimension value is the origin host name.
param metricAlertRules = [
  {
    name: 'cutover-chat-eastus2-origin-health'
    description: 'Front Door sees fewer than 90% healthy probes for chat in eastus2'
    severity: 1
    targetResourceId: afdChat
    metricNamespace: 'Microsoft.Cdn/profiles'
    metricName: 'OriginHealthPercentage'
    operator: 'LessThan'
    threshold: 90
    timeAggregation: 'Average'
    dimensions: [{ name: 'Origin', operator: 'Include', values: ['chat-eastus2.inference.contoso.example'] }]
    scope: { workload: 'chat', region: 'eastus2' }
  }
  {
    name: 'cutover-chat-westus3-origin-health'
    description: 'Front Door sees fewer than 90% healthy probes for chat in westus3'
    severity: 1
    targetResourceId: afdChat
    metricNamespace: 'Microsoft.Cdn/profiles'
    metricName: 'OriginHealthPercentage'
    operator: 'LessThan'
    threshold: 90
    timeAggregation: 'Average'
    dimensions: [{ name: 'Origin', operator: 'Include', values: ['chat-westus3.inference.contoso.example'] }]
    scope: { workload: 'chat', region: 'westus3' }
  }
  {
    name: 'cutover-chat-eastus2-5xx'
    description: 'More than 50 inference responses with 5xx in 5 minutes from chat in eastus2'
    severity: 2
    targetResourceId: afdChat
    metricNamespace: 'Microsoft.Cdn/profiles'
    metricName: 'OriginRequestCount'
    operator: 'GreaterThan'
    threshold: 50
    timeAggregation: 'Total'
    dimensions: [
      { name: 'Origin', operator: 'Include', values: ['chat-eastus2.inference.contoso.example'] }
      { name: 'HttpStatusGroup', operator: 'Include', values: ['5XX'] }
    ]
    scope: { workload: 'chat', region: 'eastus2' }
  }
  {
    name: 'cutover-chat-westus3-5xx'
    description: 'More than 50 inference responses with 5xx in 5 minutes from chat in westus3'
    severity: 2
    targetResourceId: afdChat
    metricNamespace: 'Microsoft.Cdn/profiles'
    metricName: 'OriginRequestCount'
    operator: 'GreaterThan'
    threshold: 50
    timeAggregation: 'Total'
    dimensions: [
      { name: 'Origin', operator: 'Include', values: ['chat-westus3.inference.contoso.example'] }
      { name: 'HttpStatusGroup', operator: 'Include', values: ['5XX'] }
    ]
    scope: { workload: 'chat', region: 'westus3' }
  }
  {
    name: 'cutover-chat-eastus2-latency'
    description: 'Average origin latency of chat in eastus2 above its 1200 ms SLO for 5 minutes'
    severity: 2
    targetResourceId: afdChat
    metricNamespace: 'Microsoft.Cdn/profiles'
    metricName: 'OriginLatency'
    operator: 'GreaterThan'
    threshold: 1200
    timeAggregation: 'Average'
    dimensions: [{ name: 'Origin', operator: 'Include', values: ['chat-eastus2.inference.contoso.example'] }]
    scope: { workload: 'chat', region: 'eastus2' }
  }
  {
    name: 'cutover-chat-westus3-latency'
    description: 'Average origin latency of chat in westus3 above its 1200 ms SLO for 5 minutes'
    severity: 2
    targetResourceId: afdChat
    metricNamespace: 'Microsoft.Cdn/profiles'
    metricName: 'OriginLatency'
    operator: 'GreaterThan'
    threshold: 1200
    timeAggregation: 'Average'
    dimensions: [{ name: 'Origin', operator: 'Include', values: ['chat-westus3.inference.contoso.example'] }]
    scope: { workload: 'chat', region: 'westus3' }
  }
  {
    name: 'cutover-chat-lite-centralus-backend-health'
    description: 'Front Door (classic) sees fewer than 90% healthy probes for chat-lite in centralus'
    severity: 1
    targetResourceId: fdChatLite
    metricNamespace: 'Microsoft.Network/frontdoors'
    metricName: 'BackendHealthPercentage'
    operator: 'LessThan'
    threshold: 90
    timeAggregation: 'Average'
    dimensions: [{ name: 'Backend', operator: 'Include', values: ['chat-lite-centralus.contoso.example'] }]
    scope: { workload: 'chat-lite', region: 'centralus' }
  }
]

// GPU node readiness per zone-pinned pool (no platform metric carries the zone): managed Prometheus, where AKS names
// VMSS nodes aks-<pool>-<id>-vmss<n>. `or vector(0)` makes a pool with no node at all fire too.
param azureMonitorWorkspaceResourceId = '/subscriptions/${subscriptionId}/resourceGroups/rg-cutover-monitor/providers/Microsoft.Monitor/accounts/amw-cutover'
param azureMonitorWorkspaceLocation = 'northcentralus'
param prometheusAlertRules = [
  for p in [
    { cluster: 'aks-chat-eastus2', pool: 'a100z1', region: 'eastus2', zone: '1' }
    { cluster: 'aks-chat-eastus2', pool: 'a100z2', region: 'eastus2', zone: '2' }
    { cluster: 'aks-chat-westus3', pool: 'a100z1', region: 'westus3', zone: '1' }
    { cluster: 'aks-chat-westus3', pool: 'a100z2', region: 'westus3', zone: '2' }
  ]: {
    name: 'cutover-chat-${p.region}-z${p.zone}-gpu-ready'
    description: 'No Ready GPU node in pool ${p.pool} (${p.region} zone ${p.zone}) of ${p.cluster}'
    severity: 1
    expression: '(sum(kube_node_status_condition{cluster="${p.cluster}",condition="Ready",status="true",node=~"aks-${p.pool}-.*"}) or vector(0)) < 1'
    for: 'PT2M'
    scope: { workload: 'chat', region: p.region, zone: p.zone }
  }
]
