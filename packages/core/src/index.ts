export * from "./errors.js";
export * from "./pii.js";
export * from "./tiers.js";
