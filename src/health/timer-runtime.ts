/** The composed runtime for timers, which must stay quiet when the app is not configured. */
import { runtime, type Runtime } from "../composition";
import { errorCodeOf } from "../domain/errors";

const warned = new Set<string>();

/**
 * The runtime for a timer, or undefined when the app is not configured (e.g. `cutover dev` with no state account):
 * a timer every 10 s must not log the same configuration error every 10 s, so it is logged once per process.
 */
export async function configuredRuntime(
  context: { warn(...args: unknown[]): void },
  what: string,
): Promise<Runtime | undefined> {
  try {
    return await runtime();
  } catch (error) {
    if (errorCodeOf(error) !== "INVALID_CONFIG") throw error;
    if (!warned.has(what)) {
      warned.add(what);
      context.warn(
        `${what} are off until the app is configured: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return undefined;
  }
}
