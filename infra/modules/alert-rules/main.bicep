metadata name = 'Cutover alert rules'
metadata description = 'Metric alert rules (and Prometheus alert rules where no per-zone platform metric exists) that call the Cutover action group. Each rule carries the workload, region and zone it stands for as webhook custom properties, which the Common Alert Schema delivers as data.customProperties.'

import { metricAlertRuleType, prometheusAlertRuleType, alertScopeType } from '../types.bicep'

@description('Required. Resource ID of the Cutover action group.')
param actionGroupResourceId string

@description('Optional. Static-threshold metric alert rules.')
param metricRules metricAlertRuleType[] = []

@description('Optional. Prometheus alert rules (GPU node readiness per zone-pinned pool, for example).')
param prometheusRules prometheusAlertRuleType[] = []

@description('Optional. Azure Monitor workspace that receives the clusters\' Prometheus metrics; required when prometheusRules is not empty.')
param azureMonitorWorkspaceResourceId string = ''

@description('Optional. Location of the Prometheus rule group (the Azure Monitor workspace\'s region).')
param location string = resourceGroup().location

@description('Optional. Tags applied to every rule.')
param tags object = {}

func customProperties(scope alertScopeType) object =>
  union({ workload: scope.workload, region: scope.region }, scope.?zone == null ? {} : { zone: scope.?zone })

resource metricAlerts 'Microsoft.Insights/metricAlerts@2018-03-01' = [
  for rule in metricRules: {
    name: rule.name
    location: 'global'
    tags: tags
    properties: {
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [rule.targetResourceId]
      evaluationFrequency: rule.?evaluationFrequency ?? 'PT1M'
      windowSize: rule.?windowSize ?? 'PT5M'
      autoMitigate: true
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            criterionType: 'StaticThresholdCriterion'
            name: 'condition'
            metricNamespace: rule.metricNamespace
            metricName: rule.metricName
            operator: rule.operator
            threshold: rule.threshold
            timeAggregation: rule.timeAggregation
            dimensions: rule.?dimensions ?? []
          }
        ]
      }
      actions: [
        {
          actionGroupId: actionGroupResourceId
          webHookProperties: customProperties(rule.scope)
        }
      ]
    }
  }
]

resource prometheusGroup 'Microsoft.AlertsManagement/prometheusRuleGroups@2023-03-01' = if (!empty(prometheusRules)) {
  name: 'cutover-gpu-readiness'
  location: location
  tags: tags
  properties: {
    description: 'Cutover: GPU node readiness per zone-pinned pool'
    enabled: true
    interval: 'PT1M'
    scopes: [
      empty(azureMonitorWorkspaceResourceId)
        ? fail('azureMonitorWorkspaceResourceId is required when prometheusRules is not empty')
        : azureMonitorWorkspaceResourceId
    ]
    rules: [
      for rule in prometheusRules: {
        alert: rule.name
        enabled: true
        expression: rule.expression
        for: rule.?for ?? 'PT2M'
        severity: rule.severity
        annotations: { description: rule.description }
        resolveConfiguration: { autoResolved: true, timeToResolve: 'PT5M' }
        actions: [
          {
            actionGroupId: actionGroupResourceId
            actionProperties: customProperties(rule.scope)
          }
        ]
      }
    ]
  }
}

@description('Names of the metric alert rules.')
output metricAlertNames string[] = [for (rule, i) in metricRules: metricAlerts[i].name]
