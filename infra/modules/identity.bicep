// The user-assigned managed identity the function app runs as: storage, queue, Key Vault,
// Application Insights ingestion and the database all trust this one principal (no keys).

@description('Name of the user-assigned managed identity.')
param name string

@description('Region of the identity.')
param location string

param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
