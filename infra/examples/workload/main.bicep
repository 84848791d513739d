metadata name = 'Example AI inference workload'
metadata description = 'What Cutover protects, as code: per region an AKS cluster with one GPU pool pinned to each zone, a Front Door Standard profile with one origin per region and an explicit probe interval, and a Chaos Studio zone-down experiment per region and zone for drills. Regions and zones are parameters; nothing is hard-coded.'

@description('Required. Workload name (the topology\'s workload name), used in resource names.')
@minLength(2)
@maxLength(12)
param workloadName string

@description('Required. Workload regions: each gets a cluster, an origin and zone-down experiments.')
@minLength(1)
param regions {
  @description('Required. Region name, e.g. eastus2.')
  name: string
  @description('Required. Zones with a GPU pool, e.g. ["1", "2"].')
  zones: string[]
  @description('Required. Host name of the region\'s inference ingress (the Front Door origin).')
  originHostName: string
  @description('Optional. GPU VM size in this region.')
  gpuVmSize: string?
  @description('Optional. Origin priority (1 = preferred).')
  priority: int?
  @description('Optional. Origin weight.')
  weight: int?
}[]

@description('Required. Front Door health probe interval in seconds (1-255).')
@minValue(1)
@maxValue(255)
param probeIntervalInSeconds int

@description('Optional. Region that hosts the Chaos Studio experiment resources.')
param chaosLocation string = regions[0].name

@description('Optional. Namespaces whose pods the zone-down drill fails.')
param drillNamespaces string[] = ['inference']

@description('Optional. Tags applied to every resource.')
param tags object = {}

module clusters '../../modules/gpu-cluster/main.bicep' = [
  for region in regions: {
    name: 'workload-aks-${region.name}'
    params: {
      name: 'aks-${workloadName}-${region.name}'
      location: region.name
      zones: region.zones
      gpuVmSize: region.?gpuVmSize ?? 'Standard_NC24ads_A100_v4'
      tags: tags
    }
  }
]

module frontDoor '../../modules/front-door-standard/main.bicep' = {
  name: 'workload-afd'
  params: {
    profileName: 'afd-${workloadName}'
    endpointName: 'ep-${workloadName}-${take(uniqueString(resourceGroup().id, workloadName), 6)}'
    probeIntervalInSeconds: probeIntervalInSeconds
    origins: [
      for region in regions: {
        name: '${workloadName}-${region.name}'
        hostName: region.originHostName
        priority: region.?priority ?? 1
        weight: region.?weight ?? 50
      }
    ]
    tags: tags
  }
}

var drills = flatten(map(regions, r => map(r.zones, z => { region: r.name, zone: z })))

module zoneDown '../../modules/zone-down-experiment/main.bicep' = [
  for (drill, i) in drills: {
    name: 'workload-drill-${drill.region}-${drill.zone}'
    params: {
      name: 'exp-${workloadName}-${drill.region}-zone${drill.zone}-down'
      location: chaosLocation
      clusterName: 'aks-${workloadName}-${drill.region}'
      clusterRegion: drill.region
      zone: drill.zone
      namespaces: drillNamespaces
      tags: tags
    }
    dependsOn: [clusters]
  }
]

@description('Resource IDs of the clusters, in the order of regions.')
output clusterResourceIds string[] = [for (region, i) in regions: clusters[i].outputs.resourceId]

@description('Resource ID of the Front Door profile.')
output frontDoorResourceId string = frontDoor.outputs.resourceId

@description('Resource IDs of the zone-down experiments.')
output drillExperimentIds string[] = [for (drill, i) in drills: zoneDown[i].outputs.resourceId]
