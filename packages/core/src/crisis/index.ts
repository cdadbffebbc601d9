export * from "./state.js";
export * from "./resources.js";
export * from "./directory.js";
export * from "./ops.js";
export * from "./degraded.js";
export * from "./fairness.js";
