export * from "./state.js";
export * from "./resources.js";
export * from "./ops.js";
