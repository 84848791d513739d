/**
 * The part of a Durable client the start path uses (getStatus, startNew), over an in-memory table of instances:
 * starting a Running instance fails as the real one does, a missing instance is a 404. Tests count what they need
 * through the hooks.
 */
export interface FakeInstances {
  readonly now: number;
  readonly instances: Map<string, { runtimeStatus: string; lastUpdatedTime: number }>;
}

export function fakeStatusAndStart(
  world: FakeInstances,
  hooks: { readonly onStatus?: (id: string) => void; readonly onStart?: (id: string) => void } = {},
) {
  return {
    getStatus: (id: string) => {
      hooks.onStatus?.(id);
      const i = world.instances.get(id);
      if (i === undefined) return Promise.reject(new Error(`404 No instance ${id}`));
      return Promise.resolve({ runtimeStatus: i.runtimeStatus, lastUpdatedTime: new Date(i.lastUpdatedTime) });
    },
    startNew: (_name: string, options: { instanceId: string }) => {
      const i = world.instances.get(options.instanceId);
      if (i?.runtimeStatus === "Running") return Promise.reject(new Error("already running"));
      world.instances.set(options.instanceId, { runtimeStatus: "Running", lastUpdatedTime: world.now });
      hooks.onStart?.(options.instanceId);
      return Promise.resolve(options.instanceId);
    },
  };
}
