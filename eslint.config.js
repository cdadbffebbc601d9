import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";
import layers from "./scripts/lint/layers.js";

export default tseslint.config(
  { ignores: ["node_modules/**", ".sst/**", ".sst.config.*", "cdk.out/**", ".paysync/**", ".test-output/**", "docs/**", "packages/*/dist/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports", disallowTypeAnnotations: false }],
      "no-console": "off",
    },
  },
  {
    // The layers of docs/ARCHITECTURE.md: which folder may import which.
    files: ["**/*.ts", "**/*.mjs", "**/*.js"],
    plugins: { paysync: layers },
    rules: { "paysync/layers": "error" },
  },
  {
    // The domain stays free of AWS: adapters live in packages/aws.
    files: ["packages/core/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: ["@aws-sdk/*", "@aws-crypto/*", "@aws-lambda-powertools/*", "aws-cdk-lib*", "sst*", "stripe", "@paysync/aws*", "@paysync/local*"] }],
    },
  },
  {
    // The client runs in browsers and React Native: no AWS, no server packages, no Node modules
    // in its core. Node-only code lives behind its Node entry point.
    files: ["packages/client/src/**/*.ts"],
    ignores: ["packages/client/src/node.ts", "packages/client/src/node/**"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["@aws-sdk/*", "@aws-crypto/*", "@aws-lambda-powertools/*", "@paysync/aws*", "@paysync/local*"], message: "The client has no AWS or server dependencies." },
          { group: ["node:*", "fs", "fs/*", "path", "os", "crypto", "zlib", "stream", "buffer", "http", "https", "net", "url", "child_process", "worker_threads"], message: "Node modules only in the client's Node entry point (src/node.ts, src/node/)." },
        ],
      }],
    },
  },
  {
    files: ["packages/client/src/node.ts", "packages/client/src/node/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: ["@aws-sdk/*", "@aws-crypto/*", "@aws-lambda-powertools/*", "@paysync/aws*", "@paysync/local*"] }],
    },
  },
  {
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
