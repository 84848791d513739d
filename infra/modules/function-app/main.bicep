metadata name = 'Cutover function app (Flex Consumption)'
metadata description = 'A Linux Flex Consumption plan and its function app running Node 22, with a user-assigned identity for host storage, deployment storage and Application Insights. HTTPS only, TLS 1.2+, FTP and basic publishing credentials off.'

import { entraWebhookAuthType } from '../types.bicep'

@description('Required. Function app name (also the default host name prefix).')
param name string

@description('Required. Flex Consumption plan name.')
param planName string

@description('Optional. Location of the plan and the app.')
param location string = resourceGroup().location

@description('Required. Resource ID of the user-assigned identity the app runs as.')
param identityResourceId string

@description('Required. Client ID of that identity (AzureWebJobsStorage__clientId, Application Insights authentication).')
param identityClientId string

@description('Required. Name of the host storage account (identity-based AzureWebJobsStorage).')
param storageAccountName string

@description('Required. URL of the blob container holding the deployment package.')
param deploymentContainerUrl string

@description('Required. Name of the Application Insights component in this resource group.')
param appInsightsName string

@description('Required. Cutover\'s own app settings (exactly the `setInAzure` entries of src/config/settings.ts).')
param cutoverSettings object

@description('Optional. Node.js major version on Flex Consumption.')
@allowed(['22'])
param nodeVersion string = '22'

@description('Optional. Instance memory size in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Optional. Maximum number of instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Always-ready instances for the HTTP trigger group (cuts cold start on /api/alerts and the gates).')
@minValue(0)
@maxValue(10)
param alwaysReadyHttpInstances int = 1

@description('Optional. Spread the plan across availability zones (needs a region where Flex supports zone redundancy).')
param zoneRedundant bool = false

@description('Optional. When set, App Service authentication validates Entra tokens from Azure Monitor secure webhooks; the function key stays required.')
param entraWebhookAuth entraWebhookAuthType?

@description('Optional. Tags applied to the plan and the app.')
param tags object = {}

// Documented client (app) ID of the "AzNS AAD Webhook" application that signs Azure Monitor secure webhook calls.
var azureMonitorWebhookAppId = '461e8683-5575-4561-ac7f-899cc907d62a'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

// Flex Consumption takes the runtime from functionAppConfig: FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION
// are deprecated there and must not be set (Functions app settings reference, "Flex Consumption plan deprecations").
var hostSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityResourceId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    clientCertEnabled: false
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      runtime: { name: 'node', version: nodeVersion }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReadyHttpInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyHttpInstances }] : []
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: site
  name: 'appsettings'
  properties: union(cutoverSettings, hostSettings)
}

resource ftpPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'ftp'
  properties: { allow: false }
}

resource scmPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: { allow: false }
}

resource authSettings 'Microsoft.Web/sites/config@2024-11-01' = if (entraWebhookAuth != null) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    // Anonymous requests pass through (the health gate is anonymous, the rest need a function key); a bearer token
    // that is present must be valid, issued for our API and come from the Azure Monitor webhook application.
    globalValidation: { requireAuthentication: false, unauthenticatedClientAction: 'AllowAnonymous' }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: entraWebhookAuth!.applicationClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${entraWebhookAuth!.tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [entraWebhookAuth!.identifierUri]
          defaultAuthorizationPolicy: { allowedApplications: [azureMonitorWebhookAppId] }
        }
      }
    }
  }
}

@description('Name of the function app.')
output name string = site.name

@description('Resource ID of the function app.')
output resourceId string = site.id

@description('Default host name, e.g. func-cutover-xyz.azurewebsites.net.')
output defaultHostName string = site.properties.defaultHostName

@description('Location of the function app.')
output location string = site.location
