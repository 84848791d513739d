metadata name = 'Cutover Front Door origin operator'
metadata description = 'Deployed into one Front Door resource group: custom roles that can change origins (Standard/Premium) or the Front Door (classic, whose API is a whole-profile PUT), assigned on each listed profile, plus Monitoring Reader on each profile for origin health metrics.'

@description('Optional. Front Door Standard/Premium profiles (Microsoft.Cdn/profiles) in this resource group.')
param standardProfileNames string[] = []

@description('Optional. Front Door (classic) resources (Microsoft.Network/frontDoors) in this resource group.')
param classicFrontDoorNames string[] = []

@description('Required. Principal IDs of the control plane identities (one per stamp).')
@minLength(1)
param principalIds string[]

@description('Required. Resource IDs of the same identities, in the same order; they seed the role assignment names.')
@minLength(1)
param principalKeys string[]

// "CDN Profile Contributor" (ec156ff8-a8d1-4d15-830c-5b80698ca432) can change routes, rules, domains and secrets;
// Cutover only flips origin enabledState, weight and priority and reads deploymentStatus.
var originOperatorActions = [
  'Microsoft.Cdn/profiles/read'
  'Microsoft.Cdn/profiles/originGroups/read'
  'Microsoft.Cdn/profiles/originGroups/origins/read'
  'Microsoft.Cdn/profiles/originGroups/origins/write'
]
// Front Door (classic) has no origin sub-resource: backends change through a PUT of the whole Front Door.
var classicOperatorActions = [
  'Microsoft.Network/frontDoors/read'
  'Microsoft.Network/frontDoors/write'
]
var monitoringReader = '43d0d8ad-25c7-4714-9337-8ba259a9fe05'

resource originOperator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (!empty(standardProfileNames)) {
  name: guid(subscription().id, resourceGroup().id, 'cutover-front-door-origin-operator')
  properties: {
    roleName: 'Cutover Front Door origin operator (${resourceGroup().name}, ${take(subscription().subscriptionId, 8)})'
    description: 'Read Front Door Standard/Premium profiles and update their origins. Assignable in this resource group only.'
    type: 'CustomRole'
    permissions: [{ actions: originOperatorActions, notActions: [] }]
    assignableScopes: [resourceGroup().id]
  }
}

resource classicOperator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (!empty(classicFrontDoorNames)) {
  name: guid(subscription().id, resourceGroup().id, 'cutover-front-door-classic-operator')
  properties: {
    roleName: 'Cutover Front Door (classic) operator (${resourceGroup().name}, ${take(subscription().subscriptionId, 8)})'
    description: 'Read and update Front Door (classic) resources (backend pools change through a whole-resource PUT). Assignable in this resource group only.'
    type: 'CustomRole'
    permissions: [{ actions: classicOperatorActions, notActions: [] }]
    assignableScopes: [resourceGroup().id]
  }
}

resource profiles 'Microsoft.Cdn/profiles@2024-09-01' existing = [
  for name in standardProfileNames: {
    name: name
  }
]

resource classics 'Microsoft.Network/frontDoors@2021-06-01' existing = [
  for name in classicFrontDoorNames: {
    name: name
  }
]

var standardPairs = flatten(map(range(0, length(standardProfileNames)), f => map(range(0, length(principalIds)), p => { target: f, principal: p })))
var classicPairs = flatten(map(range(0, length(classicFrontDoorNames)), f => map(range(0, length(principalIds)), p => { target: f, principal: p })))

resource originWriters 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for pair in standardPairs: {
    name: guid(profiles[pair.target].id, principalKeys[pair.principal], 'cutover-front-door-origin-operator')
    scope: profiles[pair.target]
    properties: {
      principalId: principalIds[pair.principal]
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', originOperator.name)
      description: 'Cutover: enable, disable and re-weight origins of this profile'
    }
  }
]

resource standardMetricReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for pair in standardPairs: {
    name: guid(profiles[pair.target].id, principalKeys[pair.principal], monitoringReader)
    scope: profiles[pair.target]
    properties: {
      principalId: principalIds[pair.principal]
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringReader)
      description: 'Cutover: read origin health metrics of this profile'
    }
  }
]

resource classicWriters 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for pair in classicPairs: {
    name: guid(classics[pair.target].id, principalKeys[pair.principal], 'cutover-front-door-classic-operator')
    scope: classics[pair.target]
    properties: {
      principalId: principalIds[pair.principal]
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', classicOperator.name)
      description: 'Cutover: enable, disable and re-weight backends of this Front Door (classic)'
    }
  }
]

resource classicMetricReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for pair in classicPairs: {
    name: guid(classics[pair.target].id, principalKeys[pair.principal], monitoringReader)
    scope: classics[pair.target]
    properties: {
      principalId: principalIds[pair.principal]
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringReader)
      description: 'Cutover: read backend health metrics of this Front Door (classic)'
    }
  }
]
