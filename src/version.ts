/** The app's version, read once from the package.json that ships with it (works from src/ and from dist/src/). */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

function findVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "cutover" && typeof pkg.version === "string") return pkg.version;
    }
    dir = dirname(dir);
  }
  throw new Error("[INTERNAL] cannot find cutover's package.json above " + __dirname);
}

export const VERSION: string = findVersion();
