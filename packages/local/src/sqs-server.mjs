// fauxqs in its own process: its CPU never competes with the gateway's event loop, and a
// fault test can kill and restart it. Usage: node sqs-server.mjs <port> <dataDir>
import { startFauxqs } from "fauxqs";

const [port, dataDir] = process.argv.slice(2);
const server = await startFauxqs({ port: Number(port), logger: false, dataDir });
process.send?.({ ready: true, port: server.port });
const stop = () => server.stop().then(() => process.exit(0), () => process.exit(1));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("disconnect", stop);
