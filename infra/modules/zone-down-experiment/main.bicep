metadata name = 'Zone-down drill (Chaos Studio)'
metadata description = 'A Chaos Studio experiment that takes one availability zone of one AKS cluster down for a drill: every pod in the chosen namespaces on nodes of that zone fails (Chaos Mesh PodChaos pod-failure, selected by the topology.kubernetes.io/zone node label). Chaos Mesh must be installed in the cluster, and the cluster onboarded to Chaos Studio (gpu-cluster does it).'

@description('Required. Experiment name.')
param name string

@description('Required. Region of the experiment resource (a Chaos Studio region).')
param location string

@description('Required. Name of the AKS cluster (in this resource group).')
param clusterName string

@description('Required. Region of the cluster; the zone label is <clusterRegion>-<zone>.')
param clusterRegion string

@description('Required. Zone to take down, e.g. "1".')
param zone string

@description('Optional. Namespaces whose pods fail (inference workloads).')
@minLength(1)
param namespaces string[] = ['inference']

@description('Optional. How long the zone stays down (ISO 8601).')
param duration string = 'PT10M'

@description('Optional. Tags applied to the experiment.')
param tags object = {}

// Chaos Studio fault providers: AKS Chaos Mesh faults on clusters with Entra ID and Azure RBAC need
// "Azure Kubernetes Service RBAC Admin" and "Azure Kubernetes Service Cluster User Role" for the experiment identity.
var experimentRoles = {
  aksRbacAdmin: '3498e952-d568-435e-9b2c-8d77e338d7f7'
  aksClusterUser: '4abbcc35-e782-43d8-92c5-2d3f1bd2253f'
}
var zoneLabel = '${toLower(replace(clusterRegion, ' ', ''))}-${zone}'
var durationSeconds = '${dateTimeToEpoch(dateTimeAdd('1970-01-01T00:00:00Z', duration))}s'

resource cluster 'Microsoft.ContainerService/managedClusters@2025-05-01' existing = {
  name: clusterName
}

// The gpu-cluster module onboards the cluster to Chaos Studio (target + PodChaos-2.2 capability) once per cluster.
resource chaosTarget 'Microsoft.Chaos/targets@2024-01-01' existing = {
  name: 'Microsoft-AzureKubernetesServiceChaosMesh'
  scope: cluster
}

resource experiment 'Microsoft.Chaos/experiments@2024-01-01' = {
  name: name
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    selectors: [
      {
        type: 'List'
        id: 'cluster'
        targets: [{ type: 'ChaosTarget', id: chaosTarget.id }]
      }
    ]
    steps: [
      {
        name: 'zone-${zone}-down'
        branches: [
          {
            name: 'pods-on-zone-${zone}'
            actions: [
              {
                type: 'continuous'
                name: 'urn:csci:microsoft:azureKubernetesServiceChaosMesh:podChaos/2.2'
                selectorId: 'cluster'
                duration: duration
                parameters: [
                  {
                    key: 'jsonSpec'
                    value: string({
                      action: 'pod-failure'
                      mode: 'all'
                      duration: durationSeconds
                      selector: {
                        namespaces: namespaces
                        nodeSelectors: { 'topology.kubernetes.io/zone': zoneLabel }
                      }
                    })
                  }
                ]
              }
            ]
          }
        ]
      }
    ]
  }
}

resource experimentAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in items(experimentRoles): {
    name: guid(cluster.id, experiment.id, role.value)
    scope: cluster
    properties: {
      principalId: experiment.identity.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.value)
      description: 'Chaos Studio zone-down drill ${name}'
    }
  }
]

@description('Name of the experiment.')
output name string = experiment.name

@description('Resource ID of the experiment (start it with az rest POST .../start).')
output resourceId string = experiment.id
