metadata name = 'Cutover blob data access'
metadata description = 'Deployed into one storage resource group: Storage Blob Data Reader (checkpoints) or Storage Blob Data Contributor (model stores) for the control plane identities, scoped to each container rather than the account.'

@description('Required. Containers in this resource group and the access Cutover needs on each.')
@minLength(1)
param containers { accountName: string, containerName: string, access: ('read' | 'readWrite') }[]

@description('Required. Principal IDs of the control plane identities (one per stamp).')
@minLength(1)
param principalIds string[]

@description('Required. Resource IDs of the same identities, in the same order; they seed the role assignment names.')
@minLength(1)
param principalKeys string[]

// Built-in roles (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage).
var blobRoles = {
  read: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1' // Storage Blob Data Reader
  readWrite: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
}

resource targets 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' existing = [
  for c in containers: {
    name: '${c.accountName}/default/${c.containerName}'
  }
]

var pairs = flatten(map(range(0, length(containers)), c => map(range(0, length(principalIds)), p => { target: c, principal: p })))

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for pair in pairs: {
    name: guid(targets[pair.target].id, principalKeys[pair.principal], blobRoles[containers[pair.target].access])
    scope: targets[pair.target]
    properties: {
      principalId: principalIds[pair.principal]
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobRoles[containers[pair.target].access])
      description: containers[pair.target].access == 'read'
        ? 'Cutover: read training checkpoints and their manifests'
        : 'Cutover: copy the model version into this store when missing'
    }
  }
]
