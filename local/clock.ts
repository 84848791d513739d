/**
 * The virtual clock shared by the local host and the Azure simulator. Time moves only when someone advances it:
 * explicitly (`advanceBy` / `advanceTo`), or in run-to-quiescence mode when the local host, having nothing else to
 * run, jumps to the earliest due item: its own next durable timer or the simulator's next scheduled event
 * (`nextDueTime`). Scheduled callbacks run in (time, insertion) order, so the same inputs give the same timeline.
 *
 * Never deployed: production uses the Functions host's real clock.
 */

export interface ScheduledHandle {
  readonly at: number;
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch, virtual. */
  now(): number;
}

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly label: string;
  readonly fn: () => void;
  cancelled: boolean;
}

/** 2030-01-01T00:00:00Z: far from "now", so that a leak of the real clock into virtual time is easy to spot. */
export const DEFAULT_EPOCH = Date.UTC(2030, 0, 1);

export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly queue: Entry[] = [];
  private readonly listeners = new Set<(now: number) => void>();
  private readonly scheduleListeners = new Set<(at: number) => void>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private idleWaiters: Array<() => void> = [];

  constructor(start: number = DEFAULT_EPOCH) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Schedules `fn` at virtual time `at` (clamped to now). Callbacks run synchronously during an advance. */
  schedule(at: number, fn: () => void, label = ""): ScheduledHandle {
    const entry: Entry = { at: Math.max(at, this.current), seq: this.seq++, label, fn, cancelled: false };
    // Insert keeping (at, seq) order; the queue is small, a linear insert is fine.
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.at > entry.at) i--;
    this.queue.splice(i, 0, entry);
    for (const listener of this.scheduleListeners) listener(entry.at);
    return {
      at: entry.at,
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  scheduleIn(delayMs: number, fn: () => void, label = ""): ScheduledHandle {
    return this.schedule(this.current + Math.max(0, delayMs), fn, label);
  }

  /** The earliest pending scheduled time, or undefined when nothing is scheduled. */
  nextDueTime(): number | undefined {
    this.dropCancelled();
    return this.queue[0]?.at;
  }

  /** Labels of pending entries, earliest first (for debugging and logs). */
  pending(): Array<{ at: number; label: string }> {
    this.dropCancelled();
    return this.queue.map((e) => ({ at: e.at, label: e.label }));
  }

  /** Moves time forward to `target`, running every callback due on the way, in order. Never moves backwards. */
  advanceTo(target: number): void {
    if (target < this.current) return;
    for (;;) {
      this.dropCancelled();
      const head = this.queue[0];
      if (head === undefined || head.at > target) break;
      this.queue.shift();
      this.current = head.at;
      head.fn();
    }
    this.current = target;
    for (const listener of this.listeners) listener(this.current);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.current + Math.max(0, ms));
  }

  /** Runs `listener` after every advance (the local host uses it to fire due durable timers). */
  onAdvance(listener: (now: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `listener` whenever something is scheduled, so that a run-to-quiescence loop that found nothing due can
   * wake up when the simulator schedules a new world event.
   */
  onSchedule(listener: (at: number) => void): () => void {
    this.scheduleListeners.add(listener);
    return () => this.scheduleListeners.delete(listener);
  }

  /**
   * Registers asynchronous work started by a scheduled callback (an outbound webhook, a gate poll) so that a
   * run-to-quiescence loop does not jump time while it is still under way. Returns the same promise.
   */
  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = (): void => {
      this.inFlight.delete(work);
      if (this.inFlight.size === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    };
    work.then(done, done);
    return work;
  }

  /** Number of tracked promises still pending. */
  inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Resolves when no tracked work is pending (immediately if none is). */
  idle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private dropCancelled(): void {
    while (this.queue[0]?.cancelled === true) this.queue.shift();
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.cancelled) this.queue.splice(i, 1);
  }
}
