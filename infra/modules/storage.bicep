// The function app's storage account: the host's own state, the runs queue and its poison queue
// (DESIGN.md §1), and the blob container Flex Consumption deploys the code package from.
// Shared-key access is off: the identity reaches blobs and queues through Entra RBAC only.

param location string
param tags object = {}

@description('Globally unique storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Queue the HTTP submit enqueues run wake-up messages on (POWERFILL_RUNS_QUEUE).')
param runsQueueName string = 'powerfill-runs'

@description('Blob container holding the deployment package.')
param deploymentContainerName string

@description('Principal id of the function app identity.')
param identityPrincipalId string

@description('Replication of the account; locally redundant by default (see the CKV_AZURE_206 note).')
param skuName string = 'Standard_LRS'

var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  #checkov:skip=CKV_AZURE_35: Without VNet integration the Flex Consumption app reaches storage over the public endpoint; access is Entra RBAC only (shared keys and anonymous access are disabled). Add VNet integration and private endpoints to deny by default.
  #checkov:skip=CKV_AZURE_59: Same reason as CKV_AZURE_35: the public endpoint stays enabled for the app without a VNet; no request is accepted without an Entra token.
  #checkov:skip=CKV_AZURE_206: The account holds only wake-up messages and the code package: the database is the truth for runs (DESIGN.md section 1) and the package is rebuilt from source, so geo-replication buys nothing. Pass skuName Standard_GZRS to get it anyway.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource runsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: runsQueueName
}

// The Functions host creates "<queue>-poison" on first use; creating it here lets the poison
// trigger start listening before the first failure and keeps the name visible in the template.
resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${runsQueueName}-poison'
}

resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, identityPrincipalId, storageBlobDataOwnerRoleId)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, identityPrincipalId, storageQueueDataContributorRoleId)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainerName}'
output runsQueueName string = runsQueue.name
output poisonQueueName string = poisonQueue.name
