metadata name = 'Cutover monitoring'
metadata description = 'Log Analytics workspace and a workspace-based Application Insights component that accepts Entra-authenticated telemetry only.'

@description('Required. Name of the Log Analytics workspace.')
param workspaceName string

@description('Required. Name of the Application Insights component.')
param appInsightsName string

@description('Optional. Location of both resources.')
param location string = resourceGroup().location

@description('Optional. Days of log retention in the workspace.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Optional. Tags applied to both resources.')
param tags object = {}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
    features: { disableLocalAuth: true }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Ingestion needs an Entra token (Monitoring Metrics Publisher), so the connection string is not a credential.
    DisableLocalAuth: true
  }
}

@description('Resource ID of the Log Analytics workspace.')
output workspaceResourceId string = workspace.id

@description('Customer (workspace) ID used by Log Analytics queries.')
output workspaceCustomerId string = workspace.properties.customerId

@description('Name of the Application Insights component.')
output appInsightsName string = appInsights.name

@description('Resource ID of the Application Insights component.')
output appInsightsResourceId string = appInsights.id
