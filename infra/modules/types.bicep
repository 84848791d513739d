// Shared user-defined types for Cutover's Bicep (AVM convention: names end in `Type`).

@export()
@description('Entra ID settings for an Azure Monitor secure webhook (an app registration that exposes the Cutover API).')
type entraWebhookAuthType = {
  @description('Required. Tenant ID of the app registration.')
  tenantId: string
  @description('Required. Object ID of the app registration (the action group needs it).')
  applicationObjectId: string
  @description('Required. Application (client) ID of the app registration (App Service authentication needs it).')
  applicationClientId: string
  @description('Required. Identifier URI of the app registration, e.g. api://cutover.')
  identifierUri: string
}

@export()
@description('An AKS cluster whose agent pools Cutover scales. It must be in the same subscription as the deployment.')
type aksClusterRefType = {
  @description('Required. Resource group of the cluster.')
  resourceGroup: string
  @description('Required. Cluster name.')
  name: string
  @description('Required. Region of the cluster (a workload region, so never the control plane region).')
  region: string
}

@export()
@description('A Front Door profile whose origins Cutover enables, disables and re-weights.')
type frontDoorRefType = {
  @description('Required. `standard`: Front Door Standard/Premium (Microsoft.Cdn/profiles); `classic`: Front Door (classic) (Microsoft.Network/frontDoors).')
  kind: ('standard' | 'classic')
  @description('Required. Resource group of the profile.')
  resourceGroup: string
  @description('Required. Profile name (classic: the Front Door name).')
  name: string
}

@export()
@description('A blob container Cutover reads (checkpoints) or reads and writes (model stores: copy-if-missing).')
type blobContainerRefType = {
  @description('Required. Resource group of the storage account.')
  resourceGroup: string
  @description('Required. Storage account name.')
  accountName: string
  @description('Required. Container name.')
  containerName: string
  @description('Required. `read` grants Storage Blob Data Reader; `readWrite` grants Storage Blob Data Contributor.')
  access: ('read' | 'readWrite')
  @description('Required. Region of the account.')
  region: string
}

@export()
@description('An Azure Machine Learning workspace where Cutover resubmits training jobs.')
type mlWorkspaceRefType = {
  @description('Required. Resource group of the workspace.')
  resourceGroup: string
  @description('Required. Workspace name.')
  name: string
  @description('Required. Region of the workspace.')
  region: string
}

@export()
@description('Which failure scope an alert stands for; it becomes the alert\'s customProperties so /api/alerts maps it without guessing.')
type alertScopeType = {
  @description('Required. Workload name as in the topology.')
  workload: string
  @description('Required. Region name as in the topology.')
  region: string
  @description('Optional. Zone ("1", "2", "3") for zonal alerts; omit for regional ones.')
  zone: string?
}

@export()
@description('A static-threshold Azure Monitor metric alert rule on one resource.')
type metricAlertRuleType = {
  @description('Required. Rule name (unique in the resource group).')
  name: string
  @description('Required. What the rule detects.')
  description: string
  @description('Required. Severity 0 (critical) to 4 (verbose).')
  severity: int
  @description('Required. Resource ID the metric belongs to.')
  targetResourceId: string
  @description('Required. Metric namespace, e.g. Microsoft.Cdn/profiles.')
  metricNamespace: string
  @description('Required. Metric name, e.g. OriginHealthPercentage.')
  metricName: string
  @description('Required. Comparison with the threshold.')
  operator: ('GreaterThan' | 'GreaterThanOrEqual' | 'LessThan' | 'LessThanOrEqual')
  @description('Required. Threshold.')
  threshold: int
  @description('Required. Aggregation over the window.')
  timeAggregation: ('Average' | 'Count' | 'Maximum' | 'Minimum' | 'Total')
  @description('Optional. Dimension filters, e.g. the origin this rule watches.')
  dimensions: { name: string, operator: ('Include' | 'Exclude'), values: string[] }[]?
  @description('Optional. ISO 8601 window. Default PT5M.')
  windowSize: string?
  @description('Optional. ISO 8601 evaluation frequency. Default PT1M.')
  evaluationFrequency: string?
  @description('Required. The failure scope the rule stands for.')
  scope: alertScopeType
}

@export()
@description('A Prometheus alert (Azure Monitor managed Prometheus) for a signal that has no platform metric per zone, such as GPU node readiness of a zone-pinned pool.')
type prometheusAlertRuleType = {
  @description('Required. Alert name.')
  name: string
  @description('Required. What the rule detects.')
  description: string
  @description('Required. Severity 0 (critical) to 4 (verbose).')
  severity: int
  @description('Required. PromQL expression; the alert fires while it returns samples.')
  expression: string
  @description('Optional. ISO 8601 duration the expression must hold. Default PT2M.')
  for: string?
  @description('Required. The failure scope the rule stands for.')
  scope: alertScopeType
}
