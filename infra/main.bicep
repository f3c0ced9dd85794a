// PowerFill on Azure (issue 6): a Flex Consumption function app running as one user-assigned
// managed identity, its storage (runs queue, poison queue, deployment container), Application
// Insights on a Log Analytics workspace with the PowerFill workbook, a Key Vault holding the
// tenant registry, and the database: Azure SQL (default) or PostgreSQL flexible server.
// No key, password or connection secret appears in an app setting. docs/deploy.md walks through it.

targetScope = 'resourceGroup'

@description('Region for every resource.')
param location string = resourceGroup().location

@description('Short prefix of resource names (lowercase letters, digits, hyphens).')
@minLength(2)
@maxLength(12)
param namePrefix string = 'powerfill'

@description('Database engine: Azure SQL (sqlserver) or Azure Database for PostgreSQL flexible server (postgresql).')
@allowed(['sqlserver', 'postgresql'])
param databaseKind string = 'sqlserver'

@description('Memory of each function instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances the function app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Object id of the database Entra administrator (a user or group of operators). Empty: the function app identity itself is the administrator.')
param databaseAdminObjectId string = ''

@description('Display name of databaseAdminObjectId (user principal name or group name). Ignored when databaseAdminObjectId is empty.')
param databaseAdminLogin string = ''

@description('Principal type of databaseAdminObjectId.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param databaseAdminPrincipalType string = 'User'

@description('Database name on the server.')
param databaseName string = 'powerfill'

@description('Object id of an operator allowed to write the tenant registry secret (Key Vault Secrets Officer); empty for none.')
param operatorObjectId string = ''

@description('Initial tenant registry JSON (pipeline/tenants.py format). Empty: write the secret later with az keyvault secret set.')
@secure()
param tenantsRegistryJson string = ''

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Business time zone of runs (default as_of_date).')
param businessTimezone string = 'America/New_York'

param tags object = {
  application: 'powerfill'
}

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, namePrefix))
var prefix = toLower(namePrefix)
var compactPrefix = replace(prefix, '-', '')
var runsQueueName = 'powerfill-runs'
var tenantsSecretName = 'powerfill-tenants'
var useIdentityAsDbAdmin = empty(databaseAdminObjectId)

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-${prefix}-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    workspaceName: 'log-${prefix}-${resourceToken}'
    appInsightsName: 'appi-${prefix}-${resourceToken}'
    retentionInDays: logRetentionDays
    identityPrincipalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    name: take('st${compactPrefix}${resourceToken}', 24)
    runsQueueName: runsQueueName
    deploymentContainerName: 'app-package'
    identityPrincipalId: identity.outputs.principalId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    tags: tags
    name: 'kv-${take(compactPrefix, 8)}-${take(resourceToken, 11)}'
    tenantsSecretName: tenantsSecretName
    tenantsRegistryJson: tenantsRegistryJson
    identityPrincipalId: identity.outputs.principalId
    operatorObjectId: operatorObjectId
  }
}

var dbAdminObjectId = useIdentityAsDbAdmin ? identity.outputs.principalId : databaseAdminObjectId
var dbAdminLogin = useIdentityAsDbAdmin ? identity.outputs.name : databaseAdminLogin
var dbAdminType = useIdentityAsDbAdmin ? 'ServicePrincipal' : databaseAdminPrincipalType

module sqlServer 'modules/sqlserver.bicep' = if (databaseKind == 'sqlserver') {
  name: 'sqlserver'
  params: {
    location: location
    tags: tags
    serverName: 'sql-${prefix}-${resourceToken}'
    databaseName: databaseName
    adminLogin: dbAdminLogin
    adminObjectId: dbAdminObjectId
    adminPrincipalType: dbAdminType
    workspaceId: monitoring.outputs.workspaceId
  }
}

module postgres 'modules/postgresql.bicep' = if (databaseKind == 'postgresql') {
  name: 'postgresql'
  params: {
    location: location
    tags: tags
    serverName: 'psql-${prefix}-${resourceToken}'
    databaseName: databaseName
    adminLogin: dbAdminLogin
    adminObjectId: dbAdminObjectId
    adminPrincipalType: dbAdminType
  }
}

// Every setting pipeline/settings.py reads in Azure, by its alias (tests/test_infra.py checks
// this block against the Settings model, local.settings.sample.json and docs/deploy.md).
// FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION are not app settings on Flex
// Consumption: functionAppConfig.runtime carries them.
var appSettings = {
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  AZURE_CLIENT_ID: identity.outputs.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  POWERFILL_TENANTS: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.tenantsSecretUri})'
  POWERFILL_RUNS_QUEUE: runsQueueName
  POWERFILL_AUTH_MODE: 'api_key'
  POWERFILL_DATA_DIR: '/tmp/powerfill'
  POWERFILL_LEASE_SECONDS: '120'
  POWERFILL_HEARTBEAT_SECONDS: '5'
  POWERFILL_MAX_ATTEMPTS: '3'
  POWERFILL_RUN_BUDGET_SECONDS: '480'
  POWERFILL_PENDING_REQUEUE_SECONDS: '120'
  POWERFILL_RETENTION_DAYS: '30'
  POWERFILL_MAX_BODY_BYTES: '50000000'
  POWERFILL_BUSINESS_TIMEZONE: businessTimezone
  POWERFILL_TIMER_SCHEDULE: '0 */1 * * * *'
  POWERFILL_LOG_LEVEL: 'INFO'
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    tags: tags
    name: 'func-${prefix}-${resourceToken}'
    planName: 'plan-${prefix}-${resourceToken}'
    identityId: identity.outputs.id
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    appSettings: appSettings
    workspaceId: monitoring.outputs.workspaceId
  }
}

var databaseServerName = databaseKind == 'sqlserver' ? sqlServer.outputs.serverName : postgres.outputs.serverName
var databaseServerFqdn = databaseKind == 'sqlserver' ? sqlServer.outputs.fullyQualifiedDomainName : postgres.outputs.fullyQualifiedDomainName

@description('Base URL of the function app; the API is under /api/powerfill.')
output functionAppUrl string = functionApp.outputs.url
output functionAppName string = functionApp.outputs.name
@description('Client id of the managed identity (AZURE_CLIENT_ID; ClientId= in database URLs).')
output identityClientId string = identity.outputs.clientId
output identityName string = identity.outputs.name
output identityPrincipalId string = identity.outputs.principalId
output databaseServerName string = databaseServerName
output databaseServerFqdn string = databaseServerFqdn
@description('The database_url to put in the tenant registry for a tenant on this database (no password: the identity gets a token).')
output databaseUrl string = databaseKind == 'sqlserver' ? 'mssql+pyodbc://@${databaseServerFqdn}/${databaseName}?driver=ODBC+Driver+18+for+SQL+Server&Encrypt=yes&Authentication=ActiveDirectoryMsi&ClientId=${identity.outputs.clientId}' : 'postgresql+psycopg://${identity.outputs.name}@${databaseServerFqdn}/${databaseName}?sslmode=require&Authentication=ActiveDirectoryMsi&ClientId=${identity.outputs.clientId}'
output keyVaultName string = keyVault.outputs.name
output tenantsSecretName string = tenantsSecretName
output storageAccountName string = storage.outputs.name
output appInsightsName string = monitoring.outputs.appInsightsName
