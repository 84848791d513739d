/** The app's version and root folder, read once from the package.json that ships with it (src/ or dist/src/). */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

function findPackage(): { root: string; version: string } {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "cutover" && typeof pkg.version === "string") return { root: dir, version: pkg.version };
    }
    dir = dirname(dir);
  }
  throw new Error("[INTERNAL] cannot find cutover's package.json above " + __dirname);
}

const found = findPackage();
export const VERSION: string = found.version;
/** The package's root folder (where package.json, examples/ and host.json live). */
export const PACKAGE_ROOT: string = found.root;
