/**
 * Seeded randomness for the simulator: one seed, many independent named streams.
 *
 * Each concern (node provisioning of one pool, Front Door propagation, POP phases, HTTP fault rolls …) draws from
 * its own stream, derived from the scenario seed and the stream's name. A draw in one stream never shifts another,
 * so, for example, the number of ARM reads a client makes cannot change when a node becomes ready.
 *
 * Algorithm: a 32-bit FNV-1a hash of the name mixed with the seed through splitmix32 gives the state of a
 * mulberry32 generator (both well-known public-domain generators; quality is ample for simulation).
 */
import { sampleTriangular, type Triangular } from "../../src/domain/latency-model";
import { fnv1a } from "../../src/domain/hash";

export interface RandomStream {
  /** Uniform in [0, 1). */
  next(): number;
  /** A triangular sample (seconds, as the latency model is). */
  triangular(d: Triangular): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** A GUID-shaped hex string (deterministic). */
  guid(): string;
}

function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

class Mulberry32 implements RandomStream {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  triangular(d: Triangular): number {
    return sampleTriangular(d, this.next());
  }
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
  chance(p: number): boolean {
    return p >= 1 ? true : p <= 0 ? false : this.next() < p;
  }
  guid(): string {
    const hex = (n: number): string =>
      Math.floor(this.next() * 2 ** 32)
        .toString(16)
        .padStart(8, "0")
        .slice(0, n);
    const a = hex(8);
    const b = hex(8);
    const c = hex(8);
    const d = hex(8);
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${((parseInt(c[0] ?? "0", 16) & 3) | 8).toString(16)}${c.slice(1, 4)}-${c.slice(4, 8)}${d}`;
  }
}

/** Hands out one stream per name; asking twice for the same name returns the same stream (it continues). */
export class StreamFactory {
  private readonly streams = new Map<string, RandomStream>();
  constructor(readonly seed: number) {}

  stream(name: string): RandomStream {
    let s = this.streams.get(name);
    if (s === undefined) {
      s = new Mulberry32(splitmix32((fnv1a(name) ^ splitmix32(this.seed >>> 0)) >>> 0));
      this.streams.set(name, s);
    }
    return s;
  }
}
