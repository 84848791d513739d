/**
 * Frozen names of every durable function. History stores these strings: renaming one breaks in-flight instances,
 * so a breaking change gets a new name instead.
 */
export const ORCHESTRATIONS = {} as const;
export const ACTIVITIES = {} as const;
