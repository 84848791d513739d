/**
 * Property checks on an evaluated template (a `bicep snapshot`). Each returns the list of violations, empty when the
 * property holds, so a test can show both that the real template passes and that a broken copy is rejected.
 */
import { readSettings, SETTINGS, type SettingSpec } from "../../../src/config/settings";
import type { PredictedResource, Snapshot } from "./bicep";

/**
 * App settings the Functions host itself needs on Flex Consumption with identity-based connections. Flex takes the
 * runtime from functionAppConfig, so FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION must not be set.
 */
export const HOST_SETTINGS = [
  "AzureWebJobsStorage__accountName",
  "AzureWebJobsStorage__credential",
  "AzureWebJobsStorage__clientId",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
] as const;

/** Built-in roles Cutover must never hold: Owner, Contributor, User Access Administrator, RBAC Administrator. */
export const FORBIDDEN_ROLE_IDS: Readonly<Record<string, string>> = {
  "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
  "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
  "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
};

const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\blist[A-Za-z]*\(/, "a list*() call (keys or secrets)"],
  [/AccountKey=/i, "a storage account key"],
  [/SharedAccessSignature|[?&]sig=/i, "a SAS token"],
  [/DefaultEndpointsProtocol=/i, "a key-based storage connection string"],
  [/[?&]code=/i, "a function key"],
  [/password|secret/i, "a password or secret"],
];

export function ofType(s: Snapshot, type: string): PredictedResource[] {
  return s.predictedResources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
}

function prop<T>(r: PredictedResource, path: string): T | undefined {
  let cur: unknown = r;
  for (const key of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur as T | undefined;
}

function appSettingResources(s: Snapshot): PredictedResource[] {
  return ofType(s, "Microsoft.Web/sites/config").filter((r) => r.name.endsWith("/appsettings"));
}

/** App settings per function app name. */
export function appSettingsBySite(s: Snapshot): Map<string, Record<string, unknown>> {
  const result = new Map<string, Record<string, unknown>>();
  for (const r of appSettingResources(s)) result.set(r.name.split("/")[0]!, r.properties ?? {});
  for (const site of ofType(s, "Microsoft.Web/sites")) {
    const inline = prop<Array<{ name: string; value: unknown }>>(site, "properties.siteConfig.appSettings") ?? [];
    if (inline.length > 0) {
      const merged = { ...(result.get(site.name) ?? {}) };
      for (const entry of inline) merged[entry.name] = entry.value;
      result.set(site.name, merged);
    }
  }
  return result;
}

/** No secret may reach an output or an app setting (values are checked as evaluated text). */
export function secretLeaks(s: Snapshot): string[] {
  const problems: string[] = [];
  const scan = (where: string, value: unknown): void => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    for (const [pattern, what] of SECRET_PATTERNS) if (pattern.test(text)) problems.push(`${where} contains ${what}`);
  };
  for (const [name, value] of Object.entries(s.outputs)) scan(`output ${name}`, value);
  for (const [site, settings] of appSettingsBySite(s)) {
    for (const [name, value] of Object.entries(settings))
      scan(`app setting ${name} of ${site}`, `${name}=${String(value)}`);
  }
  return problems;
}

function assignmentScope(r: PredictedResource): string {
  const marker = "/providers/Microsoft.Authorization/roleAssignments/";
  const at = r.id.toLowerCase().lastIndexOf(marker.toLowerCase());
  return at < 0 ? "" : r.id.slice(0, at);
}

/**
 * Every role assignment sits on one resource (never a subscription or a whole resource group) and never grants
 * Owner, Contributor or role-assignment rights; custom roles grant no wildcard over a provider or Authorization,
 * and are assignable in one resource group at most.
 */
export function roleProblems(s: Snapshot): string[] {
  const problems: string[] = [];
  const assignments = ofType(s, "Microsoft.Authorization/roleAssignments");
  if (assignments.length === 0) problems.push("no role assignments at all");
  for (const r of assignments) {
    const scope = assignmentScope(r);
    if (!/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/.+/i.test(scope)) {
      problems.push(`role assignment ${r.name} is scoped to ${scope || "(unknown)"}, not to a single resource`);
    }
    const roleId = String(prop<string>(r, "properties.roleDefinitionId") ?? "");
    const guid = roleId.split("/").pop()?.toLowerCase() ?? "";
    const forbidden = FORBIDDEN_ROLE_IDS[guid];
    if (forbidden !== undefined) problems.push(`role assignment ${r.name} at ${scope} grants ${forbidden}`);
  }
  for (const d of ofType(s, "Microsoft.Authorization/roleDefinitions")) {
    const perms = prop<Array<{ actions?: string[]; dataActions?: string[] }>>(d, "properties.permissions") ?? [];
    for (const action of perms.flatMap((p) => [...(p.actions ?? []), ...(p.dataActions ?? [])])) {
      if (action === "*" || /^[^/]+\/\*$/.test(action) || /^\*\//.test(action)) {
        problems.push(`custom role ${d.name} grants the wildcard ${action}`);
      }
      if (/^Microsoft\.Authorization\//i.test(action)) problems.push(`custom role ${d.name} grants ${action}`);
    }
    for (const scope of prop<string[]>(d, "properties.assignableScopes") ?? []) {
      if (!/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(scope)) {
        problems.push(`custom role ${d.name} is assignable at ${scope}, wider than one resource group`);
      }
    }
  }
  return problems;
}

/** Host and state storage accept Entra identities only, over HTTPS with TLS 1.2+; the host connects by identity. */
export function storageProblems(s: Snapshot): string[] {
  const problems: string[] = [];
  const accounts = ofType(s, "Microsoft.Storage/storageAccounts");
  if (accounts.length === 0) problems.push("no storage account");
  for (const a of accounts) {
    if (prop(a, "properties.allowSharedKeyAccess") !== false)
      problems.push(`${a.name}: shared key access is not disabled`);
    if (prop(a, "properties.minimumTlsVersion") !== "TLS1_2") problems.push(`${a.name}: minimum TLS is not 1.2`);
    if (prop(a, "properties.supportsHttpsTrafficOnly") !== true) problems.push(`${a.name}: HTTP traffic allowed`);
    if (prop(a, "properties.allowBlobPublicAccess") !== false) problems.push(`${a.name}: public blob access allowed`);
  }
  for (const [site, settings] of appSettingsBySite(s)) {
    if ("AzureWebJobsStorage" in settings) problems.push(`${site}: AzureWebJobsStorage is a connection string`);
    if (settings.AzureWebJobsStorage__credential !== "managedidentity") {
      problems.push(`${site}: AzureWebJobsStorage__credential is not managedidentity`);
    }
    if (typeof settings.AzureWebJobsStorage__accountName !== "string") {
      problems.push(`${site}: AzureWebJobsStorage__accountName missing`);
    }
  }
  for (const site of ofType(s, "Microsoft.Web/sites")) {
    const auth = prop<string>(site, "properties.functionAppConfig.deployment.storage.authentication.type");
    if (auth !== "UserAssignedIdentity") problems.push(`${site.name}: deployment storage authenticates with ${auth}`);
  }
  return problems;
}

/** Function apps: Flex Consumption, Linux, Node 22, user-assigned identity, HTTPS only, TLS 1.2+, no FTP/basic auth. */
export function siteProblems(s: Snapshot): string[] {
  const problems: string[] = [];
  const sites = ofType(s, "Microsoft.Web/sites");
  if (sites.length === 0) problems.push("no function app");
  const plans = new Map(ofType(s, "Microsoft.Web/serverfarms").map((p) => [p.id.toLowerCase(), p]));
  const policies = ofType(s, "Microsoft.Web/sites/basicPublishingCredentialsPolicies");
  for (const site of sites) {
    const n = site.name;
    if (site.kind !== "functionapp,linux") problems.push(`${n}: kind is ${site.kind}`);
    if (prop(site, "properties.httpsOnly") !== true) problems.push(`${n}: httpsOnly is not true`);
    const tls = prop<string>(site, "properties.siteConfig.minTlsVersion");
    if (tls === undefined || Number.parseFloat(tls) < 1.2) problems.push(`${n}: minTlsVersion ${tls}`);
    const scmTls = prop<string>(site, "properties.siteConfig.scmMinTlsVersion");
    if (scmTls === undefined || Number.parseFloat(scmTls) < 1.2) problems.push(`${n}: scmMinTlsVersion ${scmTls}`);
    if (prop(site, "properties.siteConfig.ftpsState") !== "Disabled") problems.push(`${n}: FTP(S) is not disabled`);
    if (prop(site, "identity.type") !== "UserAssigned") problems.push(`${n}: no user-assigned identity`);
    const runtime = prop<{ name?: string; version?: string }>(site, "properties.functionAppConfig.runtime");
    if (runtime?.name !== "node" || runtime.version !== "22") problems.push(`${n}: runtime ${JSON.stringify(runtime)}`);
    const plan = plans.get(String(prop(site, "properties.serverFarmId")).toLowerCase());
    if (plan === undefined || prop(plan, "sku.name") !== "FC1" || prop(plan, "properties.reserved") !== true) {
      problems.push(`${n}: not on a Linux Flex Consumption (FC1) plan`);
    }
    for (const kind of ["ftp", "scm"]) {
      const policy = policies.find((p) => p.name === `${n}/${kind}`);
      if (policy === undefined || prop(policy, "properties.allow") !== false) {
        problems.push(`${n}: basic publishing credentials (${kind}) are not disabled`);
      }
    }
  }
  return problems;
}

/** The app settings the app's config table says Azure must have: `setInAzure` entries plus the host's own. */
export function expectedAppSettings(table: Readonly<Record<string, SettingSpec>> = SETTINGS): string[] {
  const own = Object.entries(table)
    .filter(([, spec]) => spec.setInAzure)
    .map(([name]) => name);
  return [...own, ...HOST_SETTINGS].sort();
}

/** Differences between the app settings of every function app and what the settings table expects. */
export function settingsDrift(s: Snapshot, table: Readonly<Record<string, SettingSpec>> = SETTINGS): string[] {
  const expected = expectedAppSettings(table);
  const problems: string[] = [];
  const bySite = appSettingsBySite(s);
  if (bySite.size === 0) problems.push("no app settings at all");
  for (const [site, settings] of bySite) {
    const actual = Object.keys(settings).sort();
    for (const name of expected) if (!actual.includes(name)) problems.push(`${site}: missing app setting ${name}`);
    for (const name of actual) if (!expected.includes(name)) problems.push(`${site}: unexpected app setting ${name}`);
  }
  return problems;
}

/**
 * The literal values the template sets must parse with the app's own schemas. Values known only at deployment
 * (ARM expressions such as the identity's client ID) are skipped.
 */
export function settingValueProblems(s: Snapshot): string[] {
  const problems: string[] = [];
  for (const [site, settings] of appSettingsBySite(s)) {
    const literal: Record<string, string> = {};
    for (const [name, value] of Object.entries(settings)) {
      if (name in SETTINGS && typeof value === "string" && !value.startsWith("[")) literal[name] = value;
    }
    const parsed = readSettings(literal);
    if (!parsed.ok) for (const p of parsed.problems) problems.push(`${site}: ${p.name}: ${p.message}`);
  }
  return problems;
}

/** Alert rules reach the Cutover action group and say which workload, region (and zone) they stand for. */
export function alertMappingProblems(
  s: Snapshot,
  topology: { workloads: ReadonlyArray<{ name: string; regions: Readonly<Record<string, unknown>> }> },
): string[] {
  const problems: string[] = [];
  const groups = ofType(s, "Microsoft.Insights/actionGroups");
  const groupIds = new Set(groups.map((g) => g.id.toLowerCase()));
  const check = (rule: string, props: Record<string, unknown> | undefined): void => {
    const workload = topology.workloads.find((w) => w.name === props?.workload);
    if (workload === undefined)
      problems.push(`${rule}: customProperties.workload ${JSON.stringify(props?.workload)} is not a topology workload`);
    else if (typeof props?.region !== "string" || !(props.region in workload.regions)) {
      problems.push(
        `${rule}: customProperties.region ${JSON.stringify(props?.region)} is not a region of ${workload.name}`,
      );
    }
    const zone = props?.zone;
    if (zone !== undefined && !(typeof zone === "string" && /^[1-3]$/.test(zone))) {
      problems.push(`${rule}: zone ${JSON.stringify(zone)} is not "1", "2" or "3"`);
    }
  };
  const metricAlerts = ofType(s, "Microsoft.Insights/metricAlerts");
  if (metricAlerts.length === 0) problems.push("no metric alert rules");
  for (const a of metricAlerts) {
    const actions =
      prop<Array<{ actionGroupId: string; webHookProperties?: Record<string, unknown> }>>(a, "properties.actions") ??
      [];
    if (!actions.some((x) => groupIds.has(x.actionGroupId.toLowerCase())))
      problems.push(`${a.name}: does not call the action group`);
    for (const x of actions) check(a.name, x.webHookProperties);
  }
  for (const g of ofType(s, "Microsoft.AlertsManagement/prometheusRuleGroups")) {
    const rules =
      prop<
        Array<{ alert: string; actions?: Array<{ actionGroupId: string; actionProperties?: Record<string, unknown> }> }>
      >(g, "properties.rules") ?? [];
    for (const r of rules) {
      if (!(r.actions ?? []).some((x) => groupIds.has(x.actionGroupId.toLowerCase())))
        problems.push(`${r.alert}: does not call the action group`);
      for (const x of r.actions ?? []) {
        check(r.alert, x.actionProperties);
        if (x.actionProperties?.zone === undefined) problems.push(`${r.alert}: zonal readiness rule without a zone`);
      }
    }
  }
  for (const g of groups) {
    const hooks =
      prop<Array<{ serviceUri: string; useCommonAlertSchema: boolean }>>(g, "properties.webhookReceivers") ?? [];
    if (!hooks.some((h) => h.useCommonAlertSchema && /\/api\/alerts\?code=/.test(h.serviceUri))) {
      problems.push(`${g.name}: no Common Alert Schema webhook to /api/alerts with a function key`);
    }
  }
  return problems;
}
