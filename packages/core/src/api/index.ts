export * from "./schemas.js";
export * from "./routes.js";
export * from "./protocol.js";
export * from "./realtime.js";
