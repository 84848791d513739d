/**
 * A self-signed TLS certificate for the simulator's ARM/Monitor listener, generated at run time (never committed)
 * so that the Azure SDKs' bearer-token policy, which refuses plain http, can talk to it
 * (local-testing-feasibility §5.1–5.2). The certificate (public part only) is written to a temp dir so other
 * processes can trust it via `tlsOptions.ca` or NODE_EXTRA_CA_CERTS; the private key stays in memory.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { generate } from "selfsigned";

export interface SimCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** Path of a PEM file holding the certificate (a client trusts it as a CA). */
  readonly caFile: string;
}

export async function createCertificate(dir?: string): Promise<SimCertificate> {
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const pems = await generate([{ name: "commonName", value: "cutover-azure-simulator" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 30 * 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  const folder = dir ?? (await mkdtemp(path.join(tmpdir(), "cutover-sim-")));
  const caFile = path.join(folder, "ca.pem");
  await writeFile(caFile, pems.cert, { mode: 0o644 });
  return { certPem: pems.cert, keyPem: pems.private, caFile };
}
