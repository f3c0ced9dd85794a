// The tenant registry secret (POWERFILL_TENANTS), written only when main.bicep is given a value.

@description('Key Vault holding the secret.')
param vaultName string

@description('Secret name.')
param secretName string

@description('Tenant registry JSON (pipeline/tenants.py format: API keys only as SHA-256 hashes).')
@secure()
param value string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  #checkov:skip=CKV_AZURE_41: The registry is configuration (tenant -> database URL and API key hashes), not a credential; an expiry date would lock every tenant out at once. Rotate API keys by editing the registry.
  parent: vault
  name: secretName
  properties: {
    value: value
    contentType: 'application/json'
  }
}
