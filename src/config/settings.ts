/**
 * Every app setting Cutover reads, in one table: its zod schema, whether it is required, and what it is for.
 * This table is the single source of truth for the README's settings section, `local.settings.sample.json` and
 * the app settings that `infra/main.bicep` sets (a test compares them).
 *
 * Only `composition.ts` and the HTTP health function read settings; orchestrators never do.
 */
import { z } from "zod";

export interface SettingSpec {
  readonly schema: z.ZodType;
  readonly description: string;
  /** Set by the Bicep template in Azure (false: local-only or optional tuning). */
  readonly setInAzure: boolean;
  /** Never echo the value in errors or logs. */
  readonly secret?: boolean;
}

const boolString = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const positiveInt = z.coerce.number().int().positive();
const url = z.url({ protocol: /^https?$/ });

export const SETTINGS = {
  CUTOVER_TOPOLOGY_PATH: {
    schema: z.string().min(1),
    description:
      "Path of the topology YAML, absolute or relative to the app root (the deployment package ships it). Example: examples/topology.yaml.",
    setInAzure: true,
  },
  CUTOVER_TASK_HUB: {
    schema: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,44}$/, "expected 3–45 letters and digits, starting with a letter"),
    description: "Durable task hub name (host.json reads it as %CUTOVER_TASK_HUB%).",
    setInAzure: true,
  },
  CUTOVER_STATE_ACCOUNT_URL: {
    schema: url,
    description:
      "Blob service URL of the account holding Cutover's state: health gates, alert records and failover reports (managed identity).",
    setInAzure: true,
  },
  CUTOVER_STATE_CONNECTION_STRING: {
    schema: z
      .string()
      .refine(
        (v) => v === "UseDevelopmentStorage=true" || (/(^|;)AccountName=/.test(v) && /(^|;)BlobEndpoint=/.test(v)),
        "expected UseDevelopmentStorage=true or a connection string with AccountName and BlobEndpoint",
      ),
    description:
      "Local development only: a storage connection string (Azurite) used instead of CUTOVER_STATE_ACCOUNT_URL.",
    setInAzure: false,
    secret: true,
  },
  AZURE_CLIENT_ID: {
    schema: z.uuid(),
    description: "Client id of the user-assigned managed identity Cutover authenticates with.",
    setInAzure: true,
  },
  CUTOVER_ARM_ENDPOINT: {
    schema: url,
    description: "Azure Resource Manager endpoint. Default https://management.azure.com (the simulator sets its own).",
    setInAzure: false,
  },
  CUTOVER_METRICS_ENDPOINT: {
    schema: url,
    description:
      "Azure Monitor metrics endpoint for metrics:getBatch. Default https://<region>.metrics.monitor.azure.com per queried region.",
    setInAzure: false,
  },
  CUTOVER_LOGS_ENDPOINT: {
    schema: url,
    description: "Log Analytics query endpoint, including /v1. Default https://api.loganalytics.io/v1.",
    setInAzure: false,
  },
  CUTOVER_LOG_WORKSPACE_ID: {
    schema: z.uuid(),
    description: "Log Analytics workspace (customer id) used to confirm alerts and read probe history; optional.",
    setInAzure: true,
  },
  CUTOVER_CREDENTIAL: {
    schema: z.enum(["managed-identity", "default", "simulator"]),
    description:
      "How Cutover gets tokens: managed-identity (Azure), default (DefaultAzureCredential, for a workstation), or simulator (a fixed token, accepted only with loopback endpoints).",
    setInAzure: true,
  },
  CUTOVER_TLS_CA_FILE: {
    schema: z.string().min(1),
    description: "Local development only: a PEM file to trust for the Azure simulator's self-signed certificate.",
    setInAzure: false,
  },
  CUTOVER_LOCAL_BLOB_ORIGIN: {
    schema: url,
    description:
      "Local development only: map every storage account the topology names (model and checkpoint stores) to the Azurite account of the same name at this origin (e.g. http://127.0.0.1:10000), using Azurite's well-known key.",
    setInAzure: false,
  },
  CUTOVER_LOCAL_SIMULATION: {
    schema: boolString,
    description:
      "Local simulation only: turn off SDK-level retries (the runbook retries in virtual time, honouring Retry-After) and poll long-running operations every few milliseconds.",
    setInAzure: false,
  },
  CUTOVER_PROBE_SCHEDULE: {
    schema: z.string().min(1),
    description:
      "NCRONTAB schedule of the health probes (six fields, seconds first). Default every 10 s: */10 * * * * *.",
    setInAzure: true,
  },
  CUTOVER_ALERT_CONFIRM: {
    schema: boolString,
    description: "true: confirm a fired alert with Azure Monitor metrics before failing over. Default false.",
    setInAzure: true,
  },
  CUTOVER_AUTO_COOLDOWN_SECONDS: {
    schema: positiveInt,
    description: "Minimum seconds between two automatic failovers of the same workload. Default 1800.",
    setInAzure: true,
  },
  CUTOVER_PROBE_MODE: {
    schema: z.enum(["act", "observe", "off"]),
    description:
      "Health probes and circuit breakers: act (default: an opening breaker starts or joins the failover of its scope), observe (breakers run and record transitions, no failovers: a shadow mode for introducing probes), off (no probes). Optional tuning, not set by the template: the default applies.",
    setInAzure: false,
  },
  CUTOVER_PROBE_VANTAGES: {
    schema: z
      .string()
      .transform((v) => v.split(",").map((x) => x.trim()))
      .pipe(
        z
          .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, "expected vantage names separated by commas"))
          .min(1)
          .refine((list) => new Set(list).size === list.length, "must not repeat a vantage"),
      ),
    description:
      "Comma-separated names of the probe vantage points; each probe is sent once per vantage with the header x-cutover-vantage. Default: one vantage named after REGION_NAME (or cutover). Optional, not set by the template: one Function App probes from one place.",
    setInAzure: false,
  },
  CUTOVER_PROBE_QUORUM: {
    schema: positiveInt,
    description:
      "Vantage points that must agree before a region's breaker opens (N of the M in CUTOVER_PROBE_VANTAGES). Default 1. Optional tuning, not set by the template.",
    setInAzure: false,
  },
  CUTOVER_PROBE_TIMEOUT_MS: {
    schema: positiveInt.max(60_000),
    description:
      "Time box of one probe (ms): a probe that takes longer counts as unreachable. Default 3000. Optional tuning, not set by the template.",
    setInAzure: false,
  },
  CUTOVER_PROBE_CONCURRENCY: {
    schema: positiveInt.max(256),
    description:
      "Probes in flight at once (bounded fan-out, so one slow region never delays the others). Default 16. Optional tuning, not set by the template.",
    setInAzure: false,
  },
  CUTOVER_BREAKER_CONFIG: {
    schema: z.string().transform((v, ctx) => {
      try {
        return JSON.parse(v) as unknown;
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `expected JSON: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
    description:
      'JSON overrides of the regional breaker configuration (see docs/breaker.md), e.g. {"consecutiveFailures":4}. Optional tuning, not set by the template.',
    setInAzure: false,
  },
  CUTOVER_FAILBACK_MODE: {
    schema: z.enum(["auto", "off"]),
    description:
      "auto (default): once a failed scope's breaker has stayed closed for the soak time, start its failback (which waits for approval unless CUTOVER_FAILBACK_APPROVAL=none); off: fail back by hand only (POST /api/failovers/{id}/failback). Optional, not set by the template.",
    setInAzure: false,
  },
  CUTOVER_FAILBACK_SOAK_SECONDS: {
    schema: z.coerce.number().int().min(0),
    description:
      "Seconds a failed scope's breaker must stay closed (and the failover be finished) before failback starts. Default 1800. Optional tuning, not set by the template.",
    setInAzure: false,
  },
  CUTOVER_FAILBACK_HOLD_SECONDS: {
    schema: z.coerce.number().int().min(0),
    description:
      "Seconds the returning region's health must hold at each failback step before the next. Default 300. Optional tuning, not set by the template.",
    setInAzure: false,
  },
  CUTOVER_FAILBACK_APPROVAL: {
    schema: z.enum(["before-start", "every-step", "none"]),
    description:
      "Approval a failback waits for: before-start (default: one approval before traffic moves), every-step, or none. Optional, not set by the template.",
    setInAzure: false,
  },
  CUTOVER_POLL_INTERVAL_SECONDS: {
    schema: positiveInt,
    description:
      "Seconds between status polls of long-running operations inside runbooks (durable timers). Default 15.",
    setInAzure: false,
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

type Values = { [K in SettingName]?: z.output<(typeof SETTINGS)[K]["schema"]> };

export interface SettingsProblem {
  readonly name: string;
  readonly message: string;
}

export type SettingsResult =
  { readonly ok: true; readonly values: Values } | { readonly ok: false; readonly problems: SettingsProblem[] };

/**
 * Parses the settings present in `env`; absent ones stay undefined (defaults are applied by their users). Every
 * problem is reported at once, and a secret's value never appears in a message.
 */
export function readSettings(env: Readonly<Record<string, string | undefined>>): SettingsResult {
  const values: Record<string, unknown> = {};
  const problems: SettingsProblem[] = [];
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[SettingName, SettingSpec]>) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) values[name] = parsed.data;
    else
      problems.push({
        name,
        message: `${parsed.error.issues[0]?.message ?? "invalid"}${spec.secret === true ? "" : ` (got ${JSON.stringify(raw)})`}`,
      });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, values: values };
}
