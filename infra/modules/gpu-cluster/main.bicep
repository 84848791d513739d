metadata name = 'Example GPU cluster'
metadata description = 'An AKS cluster for inference with a zone-spanning system pool and exactly one GPU user pool pinned to each zone, so that Cutover can scale a healthy zone\'s pool when another zone fails. Regions and zones are parameters.'

@description('Required. Cluster name.')
param name string

@description('Required. Region of the cluster.')
param location string

@description('Required. Availability zones of the region to use, e.g. ["1", "2", "3"]; one GPU pool is created per zone.')
@minLength(1)
param zones string[]

@description('Optional. GPU VM size of the zone-pinned pools.')
param gpuVmSize string = 'Standard_NC24ads_A100_v4'

@description('Optional. Prefix of the GPU pool names; the pool of zone N is <prefix>z<N> (AKS pool names: at most 12 lowercase letters and digits).')
@maxLength(9)
param gpuPoolPrefix string = 'gpu'

@description('Optional. Initial node count of each GPU pool. Cutover later sets counts per pool; autoscaling stays off because manual scaling is disabled when it is on.')
@minValue(0)
param gpuNodeCount int = 1

@description('Optional. VM size of the system pool.')
param systemVmSize string = 'Standard_D4ds_v5'

@description('Optional. Onboard the cluster to Chaos Studio (Chaos Mesh target and PodChaos capability) for zone-down drills.')
param enableChaosTarget bool = true

@description('Optional. Tags applied to the cluster.')
param tags object = {}

resource cluster 'Microsoft.ContainerService/managedClusters@2025-05-01' = {
  name: name
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    dnsPrefix: name
    disableLocalAccounts: true
    enableRBAC: true
    aadProfile: { managed: true, enableAzureRBAC: true }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        vmSize: systemVmSize
        count: length(zones)
        availabilityZones: zones
        osType: 'Linux'
        type: 'VirtualMachineScaleSets'
      }
    ]
  }
}

// One GPU pool per zone. Agent pool operations on one cluster must not overlap (409 OperationNotAllowed).
@batchSize(1)
resource gpuPools 'Microsoft.ContainerService/managedClusters/agentPools@2025-05-01' = [
  for zone in zones: {
    parent: cluster
    name: '${gpuPoolPrefix}z${zone}'
    properties: {
      mode: 'User'
      vmSize: gpuVmSize
      count: gpuNodeCount
      enableAutoScaling: false
      availabilityZones: [zone]
      osType: 'Linux'
      type: 'VirtualMachineScaleSets'
      nodeTaints: ['nvidia.com/gpu=present:NoSchedule']
      nodeLabels: { 'cutover.io/gpu-pool': '${gpuPoolPrefix}z${zone}' }
    }
  }
]

resource chaosTarget 'Microsoft.Chaos/targets@2024-01-01' = if (enableChaosTarget) {
  name: 'Microsoft-AzureKubernetesServiceChaosMesh'
  scope: cluster
  properties: {}
}

resource podChaos 'Microsoft.Chaos/targets/capabilities@2024-01-01' = if (enableChaosTarget) {
  parent: chaosTarget
  name: 'PodChaos-2.2'
}

@description('Name of the cluster.')
output name string = cluster.name

@description('Resource ID of the cluster.')
output resourceId string = cluster.id

@description('Names of the zone-pinned GPU pools, in the order of the zones parameter.')
output gpuPoolNames string[] = [for (zone, i) in zones: gpuPools[i].name]
