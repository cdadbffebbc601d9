// Bootstrap of one local "function instance" thread: TypeScript loader first, then the host.
import { register } from "tsx/esm/api";

register();
await import("./function-thread.ts");
