// The `chat` workload of examples/topology.yaml: two core regions, GPU pools pinned to zones 1 and 2.
using 'main.bicep'

param workloadName = 'chat'
param probeIntervalInSeconds = 30
param regions = [
  {
    name: 'eastus2'
    zones: ['1', '2']
    originHostName: 'chat-eastus2.inference.contoso.example'
    gpuVmSize: 'Standard_NC24ads_A100_v4'
  }
  {
    name: 'westus3'
    zones: ['1', '2']
    originHostName: 'chat-westus3.inference.contoso.example'
    gpuVmSize: 'Standard_NC24ads_A100_v4'
  }
]
param drillNamespaces = ['inference']
