/**
 * Public API of the in-process local host. Tests, `cutover dev` and `cutover simulate` import from here.
 */
export { startLocalHost, LocalHost } from "./local-host";
export type {
  LocalHostOptions,
  RequestLogEntry,
  RunUntilIdleOptions,
  WaitForInstanceOptions,
  AutoAdvanceOptions,
} from "./local-host";
export type { HostEvent, OrchestrationStatus } from "./durable-engine";
export type { AppEntry, Registration, RegistrationKind, AuthLevel } from "./app-loader";
export { MemoryHistoryStore, FileHistoryStore } from "./store";
export { TableHistoryStore } from "./table-store";
export type { TableHistoryStoreOptions } from "./table-store";
export type { HistoryStore, InstanceRecord, EntityRecord, HistoryEvent, RuntimeStatus } from "./store";
export { LocalHostError } from "./errors";
export type { LocalHostErrorCode } from "./errors";
export { EventType } from "./history";
