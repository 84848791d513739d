metadata name = 'Example Front Door Standard profile'
metadata description = 'A Front Door Standard profile with one endpoint, one origin group whose health probe interval and sampling are explicit, one origin per region and a route. Origins call Cutover\'s health gate from their health endpoint (docs/deploy.md).'

@description('Required. Profile name.')
param profileName string

@description('Required. Endpoint name (part of the azurefd.net host name).')
param endpointName string

@description('Optional. Origin group name.')
param originGroupName string = 'og-inference'

@description('Required. One origin per workload region.')
@minLength(1)
param origins {
  @description('Required. Origin name, e.g. chat-eastus2.')
  name: string
  @description('Required. Host name of the regional inference endpoint.')
  hostName: string
  @description('Optional. 1 (highest) to 5. Default 1.')
  priority: int?
  @description('Optional. 1 to 1000. Default 50.')
  weight: int?
}[]

@description('Required. Seconds between probes from each Front Door edge (1-255). Explicit: the API default (240 s) and the portal default (30 s) differ, and detection time is a multiple of it.')
@minValue(1)
@maxValue(255)
param probeIntervalInSeconds int

@description('Optional. Path of the origins\' health endpoint (it honours Cutover\'s health gate).')
param probePath string = '/healthz'

@description('Optional. Probes considered per decision.')
param sampleSize int = 4

@description('Optional. Successful probes (of sampleSize) needed to stay healthy.')
param successfulSamplesRequired int = 3

@description('Optional. Latency sensitivity in ms; large values let weights split traffic across regions.')
param additionalLatencyInMilliseconds int = 1000

@description('Optional. Tags applied to the profile.')
param tags object = {}

resource profile 'Microsoft.Cdn/profiles@2024-09-01' = {
  name: profileName
  location: 'global'
  tags: tags
  sku: { name: 'Standard_AzureFrontDoor' }
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2024-09-01' = {
  parent: profile
  name: endpointName
  location: 'global'
  properties: { enabledState: 'Enabled' }
}

resource originGroup 'Microsoft.Cdn/profiles/originGroups@2024-09-01' = {
  parent: profile
  name: originGroupName
  properties: {
    healthProbeSettings: {
      probePath: probePath
      probeProtocol: 'Https'
      probeRequestType: 'HEAD'
      probeIntervalInSeconds: probeIntervalInSeconds
    }
    loadBalancingSettings: {
      sampleSize: sampleSize
      successfulSamplesRequired: successfulSamplesRequired
      additionalLatencyInMilliseconds: additionalLatencyInMilliseconds
    }
    sessionAffinityState: 'Disabled'
  }
}

resource originResources 'Microsoft.Cdn/profiles/originGroups/origins@2024-09-01' = [
  for origin in origins: {
    parent: originGroup
    name: origin.name
    properties: {
      hostName: origin.hostName
      originHostHeader: origin.hostName
      httpsPort: 443
      priority: origin.?priority ?? 1
      weight: origin.?weight ?? 50
      enabledState: 'Enabled'
      enforceCertificateNameCheck: true
    }
  }
]

resource route 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-09-01' = {
  parent: endpoint
  name: 'inference'
  properties: {
    originGroup: { id: originGroup.id }
    supportedProtocols: ['Https']
    httpsRedirect: 'Disabled'
    forwardingProtocol: 'HttpsOnly'
    patternsToMatch: ['/*']
    linkToDefaultDomain: 'Enabled'
    enabledState: 'Enabled'
  }
  dependsOn: [originResources]
}

@description('Name of the profile.')
output name string = profile.name

@description('Resource ID of the profile.')
output resourceId string = profile.id

@description('Host name of the endpoint.')
output endpointHostName string = endpoint.properties.hostName
