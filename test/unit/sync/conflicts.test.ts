import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ConflictStrategy } from "@paysync/core/tiers";
import {
  RECENT_ACTIVITY_WINDOW_MS, clampClientTime, compareWriters, devicePriority, resolveWrite,
  type CurrentVersion, type DeviceState, type EntityType, type IncomingWrite, type Writer,
} from "@paysync/core/sync";

const NOW = Date.parse("2025-03-10T12:00:00.000Z");
const T0 = "2025-03-10T11:00:00.000Z";
const T1 = "2025-03-10T11:00:01.000Z";

function device(overrides: Partial<DeviceState> = {}): DeviceState {
  return { activeSession: false, crisisMode: false, lastSeenAtMs: NOW - 60 * 60 * 1000, primary: false, ...overrides };
}

function writer(overrides: Partial<Writer> = {}): Writer {
  return { clientTime: T0, devicePriority: 0, deviceId: "device-a", ...overrides };
}

describe("device priority", () => {
  // Each row must outrank the next: one criterion beats all the lower ones together.
  const ordered: [string, DeviceState][] = [
    ["an active session", device({ activeSession: true })],
    ["crisis mode, recent and primary", device({ crisisMode: true, lastSeenAtMs: NOW, primary: true })],
    ["crisis mode", device({ crisisMode: true })],
    ["recent activity and primary", device({ lastSeenAtMs: NOW, primary: true })],
    ["recent activity", device({ lastSeenAtMs: NOW })],
    ["primary", device({ primary: true })],
    ["nothing", device()],
  ];

  it.each(ordered.slice(0, -1).map((row, i) => [row[0], ordered[i + 1]?.[0], row[1], ordered[i + 1]?.[1]] as const))(
    "%s outranks %s",
    (_higher, _lower, higher, lower) => {
      // Assess
      expect(devicePriority(higher, NOW)).toBeGreaterThan(devicePriority(lower ?? device(), NOW));
    },
  );

  it.each([
    ["seen just now", 0, true],
    ["seen exactly 10 minutes ago", RECENT_ACTIVITY_WINDOW_MS, true],
    ["seen 10 minutes and 1 ms ago", RECENT_ACTIVITY_WINDOW_MS + 1, false],
    ["seen a minute in the future (clock skew)", -60_000, true],
  ])("a device %s is recently active: %s", (_case, agoMs, recent) => {
    // Act
    const priority = devicePriority(device({ lastSeenAtMs: NOW - agoMs }), NOW);

    // Assess
    expect(priority > devicePriority(device(), NOW)).toBe(recent);
  });
});

describe("last-writer-wins order", () => {
  it.each([
    { case: "the later clientTime wins whatever the device priority", a: writer({ clientTime: T1 }), b: writer({ clientTime: T0, devicePriority: 15, deviceId: "z" }), expected: 1 },
    { case: "clientTimes compare as instants across offsets", a: writer({ clientTime: "2025-03-10T12:00:01+01:00" }), b: writer({ clientTime: T0, deviceId: "z" }), expected: 1 },
    { case: "equal times: the higher device priority wins", a: writer({ devicePriority: 2, deviceId: "a" }), b: writer({ devicePriority: 1, deviceId: "z" }), expected: 1 },
    { case: "equal times and priorities: the greater deviceId wins", a: writer({ deviceId: "device-b" }), b: writer({ deviceId: "device-a" }), expected: 1 },
    { case: "deviceIds compare by code unit, not locale", a: writer({ deviceId: "a" }), b: writer({ deviceId: "B" }), expected: 1 },
    { case: "the same instant in two notations ties on time", a: writer({ clientTime: "2025-03-10T12:00:00+01:00", deviceId: "b" }), b: writer({ clientTime: T0, deviceId: "a" }), expected: 1 },
    { case: "the same writer at the same instant is equal", a: writer(), b: writer(), expected: 0 },
  ])("$case", ({ a, b, expected }) => {
    // Act & Assess
    expect(compareWriters(a, b)).toBe(expected);
    expect(compareWriters(b, a)).toBe(-expected || 0);
  });

  it("the order is antisymmetric for any two writers", () => {
    const arbitraryWriter = fc.record({
      clientTime: fc.integer({ min: 0, max: 4_000_000_000_000 }).map((ms) => new Date(ms).toISOString()),
      devicePriority: fc.integer({ min: 0, max: 15 }),
      deviceId: fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/),
    });
    fc.assert(
      fc.property(arbitraryWriter, arbitraryWriter, (a, b) => {
        expect(Math.sign(compareWriters(a, b))).toBe(-Math.sign(compareWriters(b, a)) || 0);
      }),
    );
  });

  it.each([
    ["a time far in the future is capped at receive time plus skew", "2030-01-01T00:00:00.000Z", "2025-03-10T12:05:00.000Z"],
    ["a time within the skew is kept as sent", "2025-03-10T12:04:59+00:00", "2025-03-10T12:04:59+00:00"],
    ["a time in the past is kept as sent", T0, T0],
  ])("%s", (_case, clientTime, expected) => {
    // Assess
    expect(clampClientTime(clientTime, NOW)).toBe(expected);
  });
});

describe("resolving a write", () => {
  const current: CurrentVersion = { version: 4, clientTime: T1, devicePriority: 0, deviceId: "device-a" };
  const newer: IncomingWrite = { baseVersion: 3, clientTime: "2025-03-10T11:00:02.000Z", devicePriority: 0, deviceId: "device-b" };
  const older: IncomingWrite = { baseVersion: 3, clientTime: T0, devicePriority: 15, deviceId: "device-z" };

  it.each<{ case: string; current: CurrentVersion | undefined; op: IncomingWrite; strategy: ConflictStrategy; entityType: EntityType; expected: unknown }>([
    { case: "a write on the current version applies", current, op: { ...older, baseVersion: 4 }, strategy: "automatic", entityType: "mood_entry", expected: { decision: "apply", conflict: false, toHistory: null } },
    { case: "a write on the current version applies under manual resolution", current, op: { ...older, baseVersion: 4 }, strategy: "manual", entityType: "mood_entry", expected: { decision: "apply", conflict: false, toHistory: null } },
    { case: "a first write of a new entity applies", current: undefined, op: { ...older, baseVersion: 0 }, strategy: "manual", entityType: "check_in", expected: { decision: "apply", conflict: false, toHistory: null } },
    { case: "a newer conflicting write wins and the current version goes to history", current, op: newer, strategy: "automatic", entityType: "mood_entry", expected: { decision: "apply_lww_winner", conflict: true, toHistory: "current" } },
    { case: "an older conflicting write loses and is kept in history", current, op: older, strategy: "automatic", entityType: "mood_entry", expected: { decision: "keep_current_lww_loser", conflict: true, toHistory: "op" } },
    { case: "a base version ahead of the server conflicts too", current, op: { ...newer, baseVersion: 9 }, strategy: "automatic", entityType: "mood_entry", expected: { decision: "apply_lww_winner", conflict: true, toHistory: "current" } },
    { case: "the same writer at the same instant: the later arrival wins", current, op: { ...current, baseVersion: 3 }, strategy: "automatic", entityType: "preferences", expected: { decision: "apply_lww_winner", conflict: true, toHistory: "current" } },
    { case: "manual resolution keeps both and lists the conflict", current, op: newer, strategy: "manual", entityType: "mood_entry", expected: { decision: "manual_conflict", conflict: true, toHistory: null } },
    { case: "a losing write to a safety plan still applies", current, op: older, strategy: "automatic", entityType: "safety_plan", expected: { decision: "apply_crisis", conflict: true, toHistory: "current" } },
    { case: "a conflicting write to emergency contacts applies under manual resolution", current, op: older, strategy: "manual", entityType: "emergency_contacts", expected: { decision: "apply_crisis", conflict: true, toHistory: "current" } },
    { case: "a conflicting write to crisis state applies", current, op: newer, strategy: "manual", entityType: "crisis_state", expected: { decision: "apply_crisis", conflict: true, toHistory: "current" } },
  ])("$case", ({ current, op, strategy, entityType, expected }) => {
    // Act
    const resolution = resolveWrite({ current, op, strategy, entityType });

    // Assess
    expect(resolution).toEqual(expected);
  });

  it("a crisis entity never loses a write, whatever the writers and strategy", () => {
    const arbitraryWriter = fc.record({
      clientTime: fc.integer({ min: 0, max: 4_000_000_000_000 }).map((ms) => new Date(ms).toISOString()),
      devicePriority: fc.integer({ min: 0, max: 15 }),
      deviceId: fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/),
    });
    fc.assert(
      fc.property(
        arbitraryWriter, arbitraryWriter, fc.nat(10), fc.nat(10),
        fc.constantFrom<ConflictStrategy>("manual", "automatic"),
        fc.constantFrom<EntityType>("crisis_state", "safety_plan", "emergency_contacts"),
        (a, b, version, baseVersion, strategy, entityType) => {
          // Act
          const { decision } = resolveWrite({ current: { ...a, version }, op: { ...b, baseVersion }, strategy, entityType });

          // Assess
          expect(["apply", "apply_crisis"]).toContain(decision);
        },
      ),
    );
  });
});
