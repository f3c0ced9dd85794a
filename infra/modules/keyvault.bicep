// Key Vault (RBAC authorization) holding the tenant registry secret that POWERFILL_TENANTS
// references (DESIGN.md §7): tenant -> database URL and SHA-256 hashes of its API keys.
// The function identity may read secrets; an optional operator may write them.

param location string
param tags object = {}

@description('Key Vault name (3-24 characters, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Name of the secret holding the tenant registry JSON.')
param tenantsSecretName string = 'powerfill-tenants'

@description('Initial tenant registry JSON. Empty: the secret is not written by this deployment (set it with az keyvault secret set), so a redeploy never overwrites a registry an operator maintains.')
@secure()
param tenantsRegistryJson string = ''

@description('Principal id of the function app identity (Key Vault Secrets User).')
param identityPrincipalId string

@description('Object id of a user or group that maintains the registry (Key Vault Secrets Officer); empty for none.')
param operatorObjectId string = ''

@description('Principal type of operatorObjectId.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  #checkov:skip=CKV_AZURE_109: The Flex Consumption app without VNet integration resolves its Key Vault reference over the public endpoint; access is Entra RBAC only (Key Vault Secrets User for the app identity).
  #checkov:skip=CKV_AZURE_189: Same reason as CKV_AZURE_109; add VNet integration and a private endpoint to disable public access.
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// A module, not a conditional resource, so the secret's own settings are scanned as written.
module tenantsSecret 'tenants-secret.bicep' = if (!empty(tenantsRegistryJson)) {
  name: 'tenants-secret'
  params: {
    vaultName: vault.name
    secretName: tenantsSecretName
    value: tenantsRegistryJson
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identityPrincipalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorObjectId)) {
  name: guid(vault.id, operatorObjectId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: operatorObjectId
    principalType: operatorPrincipalType
  }
}

output name string = vault.name
output id string = vault.id
output vaultUri string = vault.properties.vaultUri
// Versionless: the app setting follows the latest version of the secret.
output tenantsSecretUri string = '${vault.properties.vaultUri}secrets/${tenantsSecretName}/'
