#!/usr/bin/env node
"use strict";
// Runs the compiled CLI. `npm ci` builds it (the "prepare" script); after editing sources run `npm run build`.
const path = require("node:path");
const fs = require("node:fs");
const entry = path.join(__dirname, "..", "dist", "src", "cli", "main.js");
if (!fs.existsSync(entry)) {
  process.stderr.write("cutover: the CLI is not built yet; run `npm run build` (npm ci does it for you).\n");
  process.exit(3);
}
require(entry)
  .main(process.argv)
  .then((code) => process.exit(code))
  .catch((error) => {
    process.stderr.write(`cutover: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(3);
  });
