import { signDevToken } from "./jwt.js";
import { loadSettings, SettingsError } from "./settings.js";

/** `npm run token -- <userId>`: prints a dev JWT for the local gateway. */
const userId = process.argv[2];
if (!userId) {
  console.error("usage: npm run token -- <userId>");
  process.exit(2);
}
try {
  const settings = loadSettings();
  console.log(await signDevToken(settings.secrets.jwtSecret, userId));
} catch (error) {
  console.error(`paysync: ${error instanceof SettingsError ? error.message : String(error)}`);
  process.exit(1);
}
