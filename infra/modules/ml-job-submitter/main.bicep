metadata name = 'Cutover Azure ML job submitter'
metadata description = 'Deployed into one Azure Machine Learning resource group: a custom role that can submit, read and cancel jobs (and read what a job references), assigned on each listed workspace.'

@description('Required. Workspaces in this resource group where Cutover resubmits training jobs.')
@minLength(1)
param workspaceNames string[]

@description('Required. Principal IDs of the control plane identities (one per stamp).')
@minLength(1)
param principalIds string[]

@description('Required. Resource IDs of the same identities, in the same order; they seed the role assignment names.')
@minLength(1)
param principalKeys string[]

// "AzureML Data Scientist" (f6c7c914-8db3-469d-8ca1-694a8f32e121) also manages models, endpoints, datasets and
// notebooks. Cutover fences the old job (cancel) and resubmits from a checkpoint; it needs nothing else.
var jobSubmitterActions = [
  'Microsoft.MachineLearningServices/workspaces/read'
  'Microsoft.MachineLearningServices/workspaces/jobs/*'
  'Microsoft.MachineLearningServices/workspaces/experiments/*'
  'Microsoft.MachineLearningServices/workspaces/environments/*/read'
  'Microsoft.MachineLearningServices/workspaces/codes/*/read'
  'Microsoft.MachineLearningServices/workspaces/computes/read'
  'Microsoft.MachineLearningServices/workspaces/datastores/read'
]

resource jobSubmitter 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, resourceGroup().id, 'cutover-ml-job-submitter')
  properties: {
    roleName: 'Cutover Azure ML job submitter (${resourceGroup().name}, ${take(subscription().subscriptionId, 8)})'
    description: 'Submit, read and cancel Azure ML jobs and read the environments, code, computes and datastores they reference. Assignable in this resource group only.'
    type: 'CustomRole'
    permissions: [{ actions: jobSubmitterActions, notActions: [] }]
    assignableScopes: [resourceGroup().id]
  }
}

resource workspaces 'Microsoft.MachineLearningServices/workspaces@2024-10-01' existing = [
  for name in workspaceNames: {
    name: name
  }
]

var pairs = flatten(map(range(0, length(workspaceNames)), w => map(range(0, length(principalIds)), p => { target: w, principal: p })))

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for pair in pairs: {
    name: guid(workspaces[pair.target].id, principalKeys[pair.principal], 'cutover-ml-job-submitter')
    scope: workspaces[pair.target]
    properties: {
      principalId: principalIds[pair.principal]
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', jobSubmitter.name)
      description: 'Cutover: fence and resubmit training jobs in this workspace'
    }
  }
]
