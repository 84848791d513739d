/** Reads a response body as loosely typed JSON (tests assert its shape with toEqual/toMatchObject). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

export async function json(res: Response | Promise<Response>): Promise<Loose> {
  return (await (await res).json()) as Loose;
}
