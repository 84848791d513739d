import { join } from "node:path";

export const APPS = join(__dirname, "..", "apps");
export const DURABLE_APP = join(APPS, "durable-app", "index.ts");
export const EMPTY_APP = join(APPS, "empty-app", "index.ts");
export const UNSUPPORTED_APP = join(APPS, "unsupported-app", "index.ts");
