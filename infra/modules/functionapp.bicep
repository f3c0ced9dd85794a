// The Flex Consumption plan and the PowerFill function app (Python 3.11, Linux), running as the
// user-assigned identity: code package pulled from blob storage with that identity, Key Vault
// references resolved with it, and its logs sent to the Log Analytics workspace.

param location string
param tags object = {}

@description('Function app name (globally unique; becomes <name>.azurewebsites.net).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Blob container URL the deployment package is uploaded to.')
param deploymentContainerUrl string

@description('Memory of each instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('App settings (name -> value); see main.bicep.')
param appSettings object

@description('Log Analytics workspace receiving the app logs.')
param workspaceId string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  #checkov:skip=CKV_AZURE_225: Zone redundancy for Flex Consumption exists only in some regions; set properties.zoneRedundant to true where the region supports it.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  #checkov:skip=CKV_AZURE_222: The HTTP API is the product and must be reachable by tenants; every request is authenticated with a tenant API key (DESIGN.md section 7). Add VNet integration and access restrictions for private deployments.
  #checkov:skip=CKV_AZURE_17: Callers authenticate with per-tenant API keys, not client certificates; requiring certificates would lock out every existing client.
  #checkov:skip=CKV_AZURE_212: Flex Consumption has no fixed instance pool: instances start per event. Always-ready instances (scaleAndConcurrency.alwaysReady) can be added at extra cost; lost work is recovered by the lease and the reconcile timer, not by failover.
  #checkov:skip=CKV_AZURE_213: Flex Consumption has no fixed instance pool for a health check to route around; GET /api/powerfill/status is the readiness probe for external monitors.
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references (POWERFILL_TENANTS) resolve with this identity, not a system one.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [for setting in items(appSettings): {
        name: setting.key
        value: setting.value
      }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// Basic-auth publishing credentials stay off: deployments authenticate with Entra ID.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'powerfill-to-workspace'
  scope: site
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
output url string = 'https://${site.properties.defaultHostName}'
