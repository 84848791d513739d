/**
 * JSON text of an append-only array, extended as the array grows. The memory store writes an instance after every
 * change; encoding its whole history each time made long orchestrations quadratic (a 1,000-virtual-second failover has
 * ~2,000 events, ~440 episodes and ~1,300 writes). Relies on the engine's invariant that a history event is never
 * changed once appended (see `HistoryStore`); a different array (continue-as-new) or a shorter one starts over.
 */
export class AppendOnlyJsonArray<T> {
  readonly #encode: (item: T) => string;
  #source: ReadonlyArray<T> | undefined;
  #count = 0;
  #text = "";

  constructor(encode: (item: T) => string = (item) => JSON.stringify(item)) {
    this.#encode = encode;
  }

  /** The encoded items joined by commas, without brackets: `JSON.stringify(items).slice(1, -1)` for plain values. */
  itemsJson(items: ReadonlyArray<T>): string {
    if (items !== this.#source || items.length < this.#count) {
      this.#source = items;
      this.#count = 0;
      this.#text = "";
    }
    for (let i = this.#count; i < items.length; i++) {
      const encoded = this.#encode(items[i]!);
      this.#text = i === 0 ? encoded : `${this.#text},${encoded}`;
    }
    this.#count = items.length;
    return this.#text;
  }
}
