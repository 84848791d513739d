metadata name = 'Cutover AKS agent pool operator'
metadata description = 'Deployed into one AKS resource group: a custom role that can read clusters, write agent pools, fetch the user kubeconfig and read Kubernetes nodes (nothing else), assigned on each listed cluster, plus Monitoring Reader on each cluster for its metrics.'

@description('Required. Names of the clusters in this resource group that Cutover scales.')
@minLength(1)
param clusterNames string[]

@description('Required. Principal IDs of the control plane identities (one per stamp).')
@minLength(1)
param principalIds string[]

@description('Required. Resource IDs of the same identities, in the same order; they seed the role assignment names.')
@minLength(1)
param principalKeys string[]

// No built-in role is narrow enough: "Azure Kubernetes Service Contributor Role" (ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8)
// can rewrite the whole cluster. Cutover only sets agent pool counts (set-to, never add-to) and aborts its own operation.
// It also counts a pool's Ready GPU nodes through the cluster's Kubernetes API (ARM has no per-pool Ready count):
// listClusterUserCredential gives the API server address and CA (the user kubeconfig carries no secret on Microsoft
// Entra clusters), and the data action nodes/read lets the identity list nodes on clusters that use Azure RBAC for
// Kubernetes authorization (https://learn.microsoft.com/azure/aks/manage-azure-rbac). The built-in "Azure Kubernetes
// Service RBAC Reader" is described as read access to "most objects in a namespace" and nodes are cluster-scoped, so
// the one data action is granted here instead. Clusters that use Kubernetes RBAC need a ClusterRoleBinding granting
// list on nodes to the identity (docs/kube-nodes.md).
var poolOperatorActions = [
  'Microsoft.ContainerService/managedClusters/read'
  'Microsoft.ContainerService/managedClusters/agentPools/read'
  'Microsoft.ContainerService/managedClusters/agentPools/write'
  'Microsoft.ContainerService/managedClusters/agentPools/abort/action'
  'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'
]

var poolOperatorDataActions = [
  'Microsoft.ContainerService/managedClusters/nodes/read'
]

// Built-in Monitoring Reader (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor).
var monitoringReader = '43d0d8ad-25c7-4714-9337-8ba259a9fe05'

// Role definitions live at subscription level even when deployed into a resource group; assignments therefore
// reference them with subscriptionResourceId() rather than the resource-group-scoped `.id`.
resource poolOperator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, resourceGroup().id, 'cutover-aks-agent-pool-operator')
  properties: {
    roleName: 'Cutover AKS agent pool operator (${resourceGroup().name}, ${take(subscription().subscriptionId, 8)})'
    description: 'Read AKS clusters, create, update or abort agent pool operations, fetch the user kubeconfig and list Kubernetes nodes. Assignable in this resource group only.'
    type: 'CustomRole'
    permissions: [{ actions: poolOperatorActions, notActions: [], dataActions: poolOperatorDataActions, notDataActions: [] }]
    assignableScopes: [resourceGroup().id]
  }
}

resource clusters 'Microsoft.ContainerService/managedClusters@2025-05-01' existing = [
  for name in clusterNames: {
    name: name
  }
]

var pairs = flatten(map(range(0, length(clusterNames)), c => map(range(0, length(principalIds)), p => { cluster: c, principal: p })))

resource poolWriters 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for pair in pairs: {
    name: guid(clusters[pair.cluster].id, principalKeys[pair.principal], 'cutover-aks-agent-pool-operator')
    scope: clusters[pair.cluster]
    properties: {
      principalId: principalIds[pair.principal]
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', poolOperator.name)
      description: 'Cutover: scale zone-pinned GPU pools of this cluster'
    }
  }
]

resource metricReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for pair in pairs: {
    name: guid(clusters[pair.cluster].id, principalKeys[pair.principal], monitoringReader)
    scope: clusters[pair.cluster]
    properties: {
      principalId: principalIds[pair.principal]
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringReader)
      description: 'Cutover: read this cluster\'s metrics (node readiness, GPU pools)'
    }
  }
]

@description('Resource ID of the custom role definition.')
output roleDefinitionId string = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', poolOperator.name)
