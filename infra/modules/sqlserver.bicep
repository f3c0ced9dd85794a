// Azure SQL logical server with Microsoft Entra-only authentication (no SQL logins, no password
// anywhere), the PowerFill database, and the firewall rule that lets Azure services (the
// Flex Consumption app, which has no fixed outbound address here) connect.

param location string
param tags object = {}

@description('Logical server name (globally unique; becomes <name>.database.windows.net).')
param serverName string

@description('Database name.')
param databaseName string = 'powerfill'

@description('Entra admin display name (user, group or the managed identity name).')
param adminLogin string

@description('Object id of the Entra admin.')
param adminObjectId string

@description('Kind of the Entra admin principal.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param adminPrincipalType string

@description('Database SKU; the default is serverless General Purpose, 1 vCore, auto-pausing.')
param sku object = {
  name: 'GP_S_Gen5'
  tier: 'GeneralPurpose'
  family: 'Gen5'
  capacity: 1
}

@description('Minutes of inactivity before a serverless database pauses (-1 disables pausing).')
param autoPauseDelay int = 60

@description('Log Analytics workspace receiving the SQL audit log.')
param workspaceId string

resource server 'Microsoft.Sql/servers@2023-08-01' = {
  #checkov:skip=CKV_AZURE_113: The Flex Consumption app has no VNet or fixed outbound address here, so it connects over the public endpoint; only Entra tokens are accepted (azureADOnlyAuthentication) and the firewall admits Azure services only.
  #checkov:skip=CKV_AZURE_25: Threat detection is Microsoft Defender for SQL, billed per server; enable it subscription-wide with Defender for Cloud rather than per template.
  #checkov:skip=CKV_AZURE_23: Auditing is on: see the nested auditingSettings resource below (checkov's Bicep graph check does not follow nested child resources).
  #checkov:skip=CKV_AZURE_24: Audit records go to the Log Analytics workspace (isAzureMonitorTargetEnabled), whose retention (logRetentionDays) governs them; retentionDays applies only to a storage-account target, which this template does not use.
  name: serverName
  location: location
  tags: tags
  properties: {
    minimalTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    administrators: {
      administratorType: 'ActiveDirectory'
      azureADOnlyAuthentication: true
      login: adminLogin
      sid: adminObjectId
      tenantId: tenant().tenantId
      // The SQL API calls a service principal (a managed identity) an "Application".
      principalType: adminPrincipalType == 'ServicePrincipal' ? 'Application' : adminPrincipalType
    }
  }

  // Server-level auditing covers every database; the records go to Log Analytics.
  resource auditing 'auditingSettings' = {
    name: 'default'
    properties: {
      state: 'Enabled'
      isAzureMonitorTargetEnabled: true
    }
  }
}

// Azure Monitor audit targets are wired through a diagnostic setting on the master database.
resource masterDatabase 'Microsoft.Sql/servers/databases@2023-08-01' existing = {
  #checkov:skip=CKV_AZURE_23: master is the system database, referenced only to attach the audit diagnostic setting; server-level auditing covers it.
  #checkov:skip=CKV_AZURE_25: master is referenced, not deployed, here; threat detection is Defender for SQL (see the server).
  parent: server
  name: 'master'
}

resource auditToWorkspace 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'sql-audit-to-workspace'
  scope: masterDatabase
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'SQLSecurityAuditEvents'
        enabled: true
      }
    ]
  }
  dependsOn: [server::auditing]
}

// 0.0.0.0 - 0.0.0.0 is Azure's convention for "allow Azure services", not the whole internet.
resource allowAzureServices 'Microsoft.Sql/servers/firewallRules@2023-08-01' = {
  parent: server
  name: 'AllowAllWindowsAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource database 'Microsoft.Sql/servers/databases@2023-08-01' = {
  #checkov:skip=CKV_AZURE_23: Auditing is configured once on the server (auditingSettings above) and applies to every database on it.
  #checkov:skip=CKV_AZURE_25: Threat detection is Microsoft Defender for SQL, billed per server; enable it subscription-wide with Defender for Cloud.
  #checkov:skip=CKV_AZURE_26: Alert recipients belong to Defender for SQL (see CKV_AZURE_25).
  #checkov:skip=CKV_AZURE_27: Alert recipients belong to Defender for SQL (see CKV_AZURE_25).
  #checkov:skip=CKV_AZURE_229: Zone redundancy for serverless General Purpose is region-dependent and raises the price; pass a sku and set zoneRedundant where needed.
  parent: server
  name: databaseName
  location: location
  tags: tags
  sku: sku
  properties: {
    collation: 'SQL_Latin1_General_CP1_CI_AS'
    autoPauseDelay: startsWith(sku.name, 'GP_S_') ? autoPauseDelay : null
    requestedBackupStorageRedundancy: 'Local'
  }
}

output serverName string = server.name
output fullyQualifiedDomainName string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
