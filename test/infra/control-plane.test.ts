/**
 * Properties of infra/main.bicep, checked on the template as Bicep evaluates it for main.bicepparam (the example
 * topology), and each shown to fail on a copy of the template broken on purpose.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SETTINGS, type SettingSpec } from "../../src/config/settings";
import {
  copyInfra,
  REPO_ROOT,
  removeCopy,
  snapshot,
  snapshotOrThrow,
  type Mutation,
  type Snapshot,
  type SnapshotResult,
} from "./support/bicep";
import {
  alertMappingProblems,
  appSettingsBySite,
  expectedAppSettings,
  ofType,
  roleProblems,
  secretLeaks,
  settingsDrift,
  settingValueProblems,
  siteProblems,
  storageProblems,
} from "./support/template-checks";

const topology = parse(readFileSync(join(REPO_ROOT, "examples", "topology.yaml"), "utf8")) as {
  workloads: Array<{ name: string; regions: Record<string, unknown> }>;
};

const APP = "modules/function-app/main.bicep";
const STORAGE = "modules/host-storage/main.bicep";
const STAMP = "modules/control-plane-stamp/main.bicep";

/** Breaks every hardening property of the host at once; each must be reported on its own. */
const hostMutations: Mutation[] = [
  { file: APP, from: "httpsOnly: true", to: "httpsOnly: false" },
  { file: APP, from: "minTlsVersion: '1.2'", to: "minTlsVersion: '1.0'" },
  { file: APP, from: "ftpsState: 'Disabled'", to: "ftpsState: 'AllAllowed'" },
  { file: APP, from: "name: 'ftp'\n  properties: { allow: false }", to: "name: 'ftp'\n  properties: { allow: true }" },
  { file: STORAGE, from: "allowSharedKeyAccess: false", to: "allowSharedKeyAccess: true" },
  {
    file: APP,
    from: "AzureWebJobsStorage__accountName: storageAccountName",
    to: "AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=${storageAccountName};AccountKey=${listKeys(resourceId('Microsoft.Storage/storageAccounts', storageAccountName), '2024-01-01').keys[0].value}'",
  },
  {
    file: "main.bicep",
    from: "@description('Which stamp receives alerts.')",
    to: "@description('Leaked key.')\noutput LEAK string = listKeys(resourceId('Microsoft.Web/sites/host', appNames.primary, 'default'), '2024-11-01').functionKeys.default\n\n@description('Which stamp receives alerts.')",
  },
  // The linter already refuses secrets in outputs; switch it off in the copy to show the test's own check.
  {
    file: "bicepconfig.json",
    from: '"outputs-should-not-contain-secrets": { "level": "error" }',
    to: '"outputs-should-not-contain-secrets": { "level": "off" }',
  },
];

/** Widens access: an assignment on the whole resource group, and Contributor instead of a blob data role. */
const roleMutations: Mutation[] = [
  {
    file: "modules/aks-pool-operator/main.bicep",
    from: "    scope: clusters[pair.cluster]\n    properties: {\n      principalId: principalIds[pair.principal]\n      principalType: 'ServicePrincipal'\n      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', poolOperator.name)",
    to: "    properties: {\n      principalId: principalIds[pair.principal]\n      principalType: 'ServicePrincipal'\n      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', poolOperator.name)",
  },
  {
    file: "modules/blob-data-access/main.bicep",
    from: "readWrite: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'",
    to: "readWrite: 'b24988ac-6180-42a0-ab88-20f7382dd24c'",
  },
  {
    file: "modules/ml-job-submitter/main.bicep",
    from: "'Microsoft.MachineLearningServices/workspaces/read'",
    to: "'Microsoft.MachineLearningServices/*'",
  },
];

/** App settings drift from the settings table, and a value the app's schema rejects. */
const settingsMutations: Mutation[] = [
  { file: STAMP, from: "  CUTOVER_PROBE_SCHEDULE: settings.probeSchedule\n", to: "" },
  {
    file: STAMP,
    from: "  CUTOVER_CREDENTIAL: 'managed-identity'\n",
    to: "  CUTOVER_CREDENTIAL: 'managed-identity'\n  FUNCTIONS_WORKER_RUNTIME: 'node'\n",
  },
  {
    file: STAMP,
    from: "CUTOVER_ALERT_CONFIRM: settings.alertConfirm ? 'true' : 'false'",
    to: "CUTOVER_ALERT_CONFIRM: string(settings.alertConfirm)",
  },
];

/** An alert rule that no longer says which workload it stands for, and a zonal rule without its zone. */
const alertMutations: Mutation[] = [
  {
    file: "modules/alert-rules/main.bicep",
    from: "webHookProperties: customProperties(rule.scope)",
    to: "webHookProperties: { region: rule.scope.region }",
  },
  {
    file: "modules/alert-rules/main.bicep",
    from: "actionProperties: customProperties(rule.scope)",
    to: "actionProperties: { workload: rule.scope.workload, region: rule.scope.region }",
  },
];

const copies: string[] = [];
let base: Snapshot;
/** One copy carries every mutation above: they are independent and each check looks for its own violation. */
let broken: Snapshot;
let inProtectedRegion: SnapshotResult;
let standbyInProtectedRegion: SnapshotResult;
let noStandby: Snapshot;

function copy(mutations: Mutation[] = []): string {
  const dir = copyInfra(mutations);
  copies.push(dir);
  return dir;
}

beforeAll(async () => {
  // All evaluations start at once; each takes a few seconds of CPU.
  [base, broken, inProtectedRegion, standbyInProtectedRegion, noStandby] = await Promise.all([
    snapshotOrThrow(copy(), "main.bicepparam"),
    snapshotOrThrow(
      copy([...hostMutations, ...roleMutations, ...settingsMutations, ...alertMutations]),
      "main.bicepparam",
    ),
    snapshot(
      copy([
        {
          file: "main.bicepparam",
          from: "readEnvironmentVariable('AZURE_LOCATION', 'northcentralus')",
          to: "'West US 3'",
        },
      ]),
      "main.bicepparam",
    ),
    snapshot(
      copy([
        {
          file: "main.bicepparam",
          from: "readEnvironmentVariable('CUTOVER_STANDBY_LOCATION', 'eastus')",
          to: "'swedencentral'",
        },
      ]),
      "main.bicepparam",
    ),
    snapshotOrThrow(
      copy([
        { file: "main.bicepparam", from: "readEnvironmentVariable('CUTOVER_STANDBY_LOCATION', 'eastus')", to: "''" },
      ]),
      "main.bicepparam",
    ),
  ]);
}, 240_000);

afterAll(() => {
  for (const dir of copies) removeCopy(dir);
});

describe("control plane template (infra/main.bicep with main.bicepparam)", () => {
  it("deploys a primary and a standby function app, each with its own app settings", () => {
    expect(ofType(base, "Microsoft.Web/sites").map((s) => s.location)).toEqual(["northcentralus", "eastus"]);
    expect(appSettingsBySite(base).size).toBe(2);
    expect(ofType(noStandby, "Microsoft.Web/sites")).toHaveLength(1);
    expect(noStandby.outputs.CUTOVER_STANDBY_FUNCTION_APP_NAME).toBe("");
  });

  it("puts no secret in outputs or app settings, and the check catches a key-based connection string and a leaked key", () => {
    expect(secretLeaks(base)).toEqual([]);
    const problems = secretLeaks(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^output LEAK contains a list\*\(\) call/),
        expect.stringMatching(/^app setting AzureWebJobsStorage of .* contains a storage account key/),
        expect.stringMatching(/^app setting AzureWebJobsStorage of .* contains a key-based storage connection string/),
      ]),
    );
  });

  it("runs on Linux Flex Consumption with Node 22, HTTPS only, TLS 1.2+, FTP and basic auth off, and the check catches each", () => {
    expect(siteProblems(base)).toEqual([]);
    const problems = siteProblems(broken);
    for (const pattern of [
      /httpsOnly is not true/,
      /minTlsVersion 1\.0/,
      /FTP\(S\) is not disabled/,
      /basic publishing credentials \(ftp\)/,
    ]) {
      expect(problems.filter((p) => pattern.test(p))).toHaveLength(2); // primary and standby
    }
  });

  it("uses identity-based storage only, and the check catches shared keys and a connection string", () => {
    expect(storageProblems(base)).toEqual([]);
    const problems = storageProblems(broken);
    expect(problems.filter((p) => p.includes("shared key access is not disabled"))).toHaveLength(2);
    expect(problems.filter((p) => p.includes("AzureWebJobsStorage is a connection string"))).toHaveLength(2);
  });

  it("scopes every role assignment to one resource, never Owner/Contributor, and the check catches widening", () => {
    expect(roleProblems(base)).toEqual([]);
    const assignments = ofType(base, "Microsoft.Authorization/roleAssignments");
    // 5 clusters, 2 Front Doors, 7 containers, 2 ML workspaces, for 2 identities; plus each stamp's own 5.
    expect(assignments).toHaveLength(2 * (5 * 2 + 2 * 2 + 7 + 2) + 2 * 5);
    const problems = roleProblems(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /is scoped to \/subscriptions\/[^/]+\/resourceGroups\/rg-chat-eastus2, not to a single resource/,
        ),
        expect.stringMatching(/at .*\/containers\/models grants Contributor/),
        expect.stringMatching(/grants the wildcard Microsoft\.MachineLearningServices\/\*/),
      ]),
    );
  });

  it("sets exactly the app settings src/config/settings.ts marks setInAzure, plus the host's own", () => {
    expect(settingsDrift(base)).toEqual([]);
    const problems = settingsDrift(broken);
    expect(problems.filter((p) => p.endsWith("missing app setting CUTOVER_PROBE_SCHEDULE"))).toHaveLength(2);
    expect(problems.filter((p) => p.endsWith("unexpected app setting FUNCTIONS_WORKER_RUNTIME"))).toHaveLength(2);
  });

  it("reports drift when the settings table changes and the template does not", () => {
    const added: Record<string, SettingSpec> = { ...SETTINGS, CUTOVER_NEW_SETTING: { ...SETTINGS.CUTOVER_TASK_HUB } };
    expect(expectedAppSettings(added)).toContain("CUTOVER_NEW_SETTING");
    expect(
      settingsDrift(base, added).filter((p) => p.endsWith("missing app setting CUTOVER_NEW_SETTING")),
    ).toHaveLength(2);
    const localOnly: Record<string, SettingSpec> = {
      ...SETTINGS,
      CUTOVER_TASK_HUB: { ...SETTINGS.CUTOVER_TASK_HUB, setInAzure: false },
    };
    expect(
      settingsDrift(base, localOnly).filter((p) => p.endsWith("unexpected app setting CUTOVER_TASK_HUB")),
    ).toHaveLength(2);
  });

  it("sets values the app's own schemas accept (ARM's string(bool) would not be)", () => {
    expect(settingValueProblems(base)).toEqual([]);
    expect(settingValueProblems(broken)).toEqual(
      expect.arrayContaining([expect.stringMatching(/CUTOVER_ALERT_CONFIRM: .*\(got "False"\)/)]),
    );
  });

  it("refuses a control plane or standby region that is a protected workload region", () => {
    expect(inProtectedRegion.ok).toBe(false);
    expect(inProtectedRegion.ok ? "" : inProtectedRegion.message).toMatch(
      /location 'West US 3' is a protected workload region/,
    );
    expect(standbyInProtectedRegion.ok).toBe(false);
    expect(standbyInProtectedRegion.ok ? "" : standbyInProtectedRegion.message).toMatch(
      /standbyLocation 'swedencentral' is a protected workload region/,
    );
  });

  it("wires alert rules to the action group with workload, region and zone custom properties", () => {
    expect(alertMappingProblems(base, topology)).toEqual([]);
    const zonal = ofType(base, "Microsoft.AlertsManagement/prometheusRuleGroups")[0]!;
    expect(JSON.stringify(zonal.properties)).toContain(
      '"actionProperties":{"workload":"chat","region":"eastus2","zone":"1"}',
    );
    const problems = alertMappingProblems(broken, topology);
    expect(problems.filter((p) => p.includes("customProperties.workload undefined"))).toHaveLength(7);
    expect(problems.filter((p) => p.includes("zonal readiness rule without a zone"))).toHaveLength(4);
  });

  it("sends alerts to the active stamp only", () => {
    const group = ofType(base, "Microsoft.Insights/actionGroups")[0]!;
    const primary = ofType(base, "Microsoft.Web/sites")[0]!;
    expect(JSON.stringify(group.properties)).toContain(primary.name);
    expect(base.outputs.CUTOVER_ACTIVE_CONTROL_PLANE).toBe("primary");
  });
});
