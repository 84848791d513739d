// ESLint flat config: typescript-eslint type-checked rules, plus a determinism override for runbooks.
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";
import vitest from "@vitest/eslint-plugin";
import { builtinModules } from "node:module";

/** Constructs an orchestrator must never use: they break replay (see ../shared/STYLE.md, "Tooling"). */
export const nondeterministic = [
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: "Use context.df.currentUtcDateTime.",
  },
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "Use context.df.currentUtcDateTime." },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: "Do randomness in an activity.",
  },
  { selector: "CallExpression[callee.property.name='randomUUID']", message: "Use context.df.newGuid(seed)." },
  {
    selector: "MemberExpression[object.name='process'][property.name='env']",
    message: "Pass config as orchestration input.",
  },
  {
    selector: "CallExpression[callee.name=/^set(Timeout|Interval|Immediate)$/]",
    message: "Use context.df.createTimer().",
  },
  { selector: "AwaitExpression", message: "Orchestrators yield Durable tasks; never await." },
  {
    selector: "FunctionDeclaration[async=true], ArrowFunctionExpression[async=true], FunctionExpression[async=true]",
    message: "Orchestrators are synchronous generators.",
  },
];

export const runbookImportBans = {
  paths: builtinModules.flatMap((m) => [m, `node:${m}`]),
  patterns: [
    { group: ["@azure/*", "!@azure/functions"], message: "Runbooks must not call Azure SDKs; use an activity." },
    {
      group: ["**/adapters/**", "**/activities/**", "**/config/**", "**/composition*"],
      message: "Runbooks depend on contracts and the pure domain only.",
    },
  ],
};

export default defineConfig(
  globalIgnores(["dist/**", "coverage/**", "node_modules/**", "infra/**", ".ci/**", "bin/**", "test/fixtures/lint/**"]),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["eslint.config.mjs"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/only-throw-error": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/naming-convention": [
        "error",
        { selector: "interface", format: ["PascalCase"], custom: { regex: "^I[A-Z]", match: false } },
      ],
      eqeqeq: "error",
    },
  },
  {
    files: ["src/runbooks/**/*.ts"],
    rules: {
      "require-yield": "error",
      "no-restricted-syntax": ["error", ...nondeterministic],
      "no-restricted-imports": ["error", runbookImportBans],
    },
  },
  {
    files: ["src/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: builtinModules.flatMap((m) => [m, `node:${m}`]),
          patterns: [{ group: ["@azure/*", "durable-functions"], message: "The domain is pure: no SDKs." }],
        },
      ],
    },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    plugins: { vitest },
    rules: {
      ...vitest.configs.recommended.rules,
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
