import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../settings.js";

/**
 * What the simulator remembers between runs, in `<data dir>/simulator.json`: the outside
 * world's side only — each simulated user's paid tier (what Stripe would know) and each
 * device's pull cursor (what the app would keep), plus the last Stripe event time, so events
 * sent in the same second still carry increasing `created` times and apply in order.
 */
const StateSchema = z.object({
  lastEventCreated: z.number().int().nonnegative().default(0),
  users: z.record(z.string(), z.object({
    tier: z.enum(["trial", "basic", "premium"]).optional(),
    cursors: z.record(z.string(), z.string()).default({}),
  })).default({}),
});
export type SimulatorState = z.infer<typeof StateSchema>;
export type PaidTier = "trial" | "basic" | "premium";

export class SimulatorStore {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, "simulator.json");
  }

  read(): SimulatorState {
    if (!existsSync(this.file)) return StateSchema.parse({});
    try {
      return StateSchema.parse(JSON.parse(readFileSync(this.file, "utf8")));
    } catch {
      return StateSchema.parse({}); // a damaged file only costs remembered cursors and tiers
    }
  }

  update(change: (state: SimulatorState) => void): SimulatorState {
    const state = this.read();
    change(state);
    writeFileAtomic(this.file, JSON.stringify(state, null, 2));
    return state;
  }

  /** The next Stripe `created` second: now, or one after the last event sent. */
  nextEventTime(): number {
    let created = 0;
    this.update((state) => {
      created = Math.max(Math.floor(Date.now() / 1000), state.lastEventCreated + 1);
      state.lastEventCreated = created;
    });
    return created;
  }

  user(userId: string): SimulatorState["users"][string] {
    return this.read().users[userId] ?? { cursors: {} };
  }

  setTier(userId: string, tier: PaidTier): void {
    this.update((state) => { state.users[userId] = { ...(state.users[userId] ?? { cursors: {} }), tier }; });
  }

  setCursor(userId: string, deviceId: string, cursor: string | undefined): void {
    this.update((state) => {
      const user = state.users[userId] ?? { cursors: {} };
      if (cursor === undefined) delete user.cursors[deviceId];
      else user.cursors[deviceId] = cursor;
      state.users[userId] = user;
    });
  }
}
