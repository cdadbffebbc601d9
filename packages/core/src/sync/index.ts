export * from "./entities.js";
export * from "./assessment.js";
export * from "./priority.js";
export * from "./grouping.js";
export * from "./limits.js";
export * from "./conflicts.js";
export * from "./push-plan.js";
export * from "./cursor.js";
