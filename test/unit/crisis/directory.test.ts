import { describe, expect, it } from "vitest";
import { CRISIS_HOTLINE } from "@paysync/core/api/crisis";
import { CrisisDirectorySchema, RegionQuerySchema, type CrisisLine } from "@paysync/core/api/crisis-directory";
import { BUNDLED_DIRECTORY, currentDirectory, directoryLines, nextDirectoryVersion, resolveRegion } from "@paysync/core/crisis/directory";

const line = (overrides: Partial<CrisisLine> & Record<string, unknown> = {}) => ({
  id: "xx-line", name: "A line", call: "123", languages: ["en"], hours: "24/7",
  sourceUrl: "https://example.org/", lastChecked: "2026-01-01", ...overrides,
});
const directory = (regions: Record<string, unknown[]>, fallback: unknown[] = [line({ id: "fallback" })]) => ({ regions, fallback });

describe("the bundled crisis directory", () => {
  const us = BUNDLED_DIRECTORY.directory.regions.US ?? [];
  const lifeline = us.find((l) => l.id === "us-988");

  it("lists 988 by call, text and chat with options 1 (Veterans) and 2 (Spanish) only", () => {
    // Assess
    expect(lifeline).toMatchObject({ call: "988", text: { number: "988" }, chatUrl: "https://988lifeline.org/chat/" });
    expect(lifeline?.options).toEqual([
      { press: "1", description: "Veterans Crisis Line" },
      { press: "2", description: "Spanish (en español)" },
    ]);
  });

  it("lists the Crisis Text Line: text HOME to 741741", () => {
    // Assess
    expect(us.find((l) => l.id === "us-crisis-text-line")?.text).toEqual({ number: "741741", message: "HOME" });
  });

  it.each([
    { region: "GB", calls: ["116 123"], texts: ["85258"] },
    { region: "IE", calls: ["116 123"], texts: [] },
    { region: "CA", calls: ["988"], texts: ["988"] },
    { region: "AU", calls: ["13 11 14"], texts: [] },
  ])("lists the national lines of $region", ({ region, calls, texts }) => {
    // Act
    const lines = directoryLines(BUNDLED_DIRECTORY, region).lines;

    // Assess
    expect(lines.flatMap((l) => (l.call ? [l.call] : []))).toEqual(calls);
    expect(lines.flatMap((l) => (l.text ? [l.text.number] : []))).toEqual(texts);
  });

  it("has findahelpline.com as the international fallback", () => {
    // Assess
    expect(BUNDLED_DIRECTORY.directory.fallback.map((l) => l.url)).toEqual(["https://findahelpline.com/"]);
  });

  it("keeps the legacy hotline field equal to its 988 line", () => {
    // Assess
    expect({ call: lifeline?.call, text: lifeline?.text?.number, chatUrl: lifeline?.chatUrl, name: lifeline?.name })
      .toEqual({ call: CRISIS_HOTLINE.call, text: CRISIS_HOTLINE.text, chatUrl: CRISIS_HOTLINE.chatUrl, name: CRISIS_HOTLINE.name });
  });

  it("gives every line its official source and a check date", () => {
    // Assess
    const all = [...Object.values(BUNDLED_DIRECTORY.directory.regions).flat(), ...BUNDLED_DIRECTORY.directory.fallback];
    expect(all.every((l) => l.sourceUrl.startsWith("https://") && /^\d{4}-\d{2}-\d{2}$/.test(l.lastChecked))).toBe(true);
  });
});

describe("which region a call is answered for", () => {
  it.each([
    { case: "the requested region first", requested: "CA", saved: "GB", expected: "CA" },
    { case: "the saved region without a request", requested: undefined, saved: "GB", expected: "GB" },
    { case: "US when neither", requested: undefined, saved: undefined, expected: "US" },
    { case: "UK read as its ISO code GB", requested: "UK", saved: undefined, expected: "GB" },
  ])("takes $case", ({ requested, saved, expected }) => {
    // Assess
    expect(resolveRegion(requested, saved)).toBe(expected);
  });

  it.each(["us", "Gb", "FR"])("reads ?region=%s as the capitalised code", (value) => {
    // Assess
    expect(RegionQuerySchema.parse(value)).toBe(value.toUpperCase());
  });

  it.each(["", "U", "USA", "1A", "u s", "ü1", "US,GB"])("refuses the malformed region %j", (value) => {
    // Assess
    expect(RegionQuerySchema.safeParse(value).success).toBe(false);
  });

  it("answers a well-formed region the directory does not list with the fallback only", () => {
    // Act
    const answer = directoryLines(BUNDLED_DIRECTORY, "FR");

    // Assess
    expect(answer).toEqual({ region: "FR", lines: [], fallback: BUNDLED_DIRECTORY.directory.fallback, directoryVersion: 1 });
  });
});

describe("an operator's directory", () => {
  it.each([
    { case: "a region code not in capitals", value: directory({ US: [line()], gb: [line({ id: "gb" })] }) },
    { case: "no lines for the default region US", value: directory({ GB: [line()] }) },
    { case: "a region with no lines", value: directory({ US: [line()], GB: [] }) },
    { case: "no fallback", value: directory({ US: [line()] }, []) },
    { case: "a line with no way to reach it", value: directory({ US: [line({ call: undefined })] }) },
    { case: "a line without its source", value: directory({ US: [line({ sourceUrl: undefined })] }) },
    { case: "a source that is not https", value: directory({ US: [line({ sourceUrl: "http://example.org/" })] }) },
    { case: "a check date that is not a date", value: directory({ US: [line({ lastChecked: "last week" })] }) },
    { case: "a number with letters", value: directory({ US: [line({ call: "CALL-NOW" })] }) },
    { case: "a line id used twice", value: directory({ US: [line({ id: "same" })], GB: [line({ id: "same" })] }) },
    { case: "an unknown field", value: { ...directory({ US: [line()] }), extra: true } },
    { case: "an unknown field on a line", value: directory({ US: [line({ priority: 1 })] }) },
  ])("is refused with $case", ({ value }) => {
    // Assess
    expect(CrisisDirectorySchema.safeParse(value).success).toBe(false);
  });

  it("is taken when every line can be reached and has its source", () => {
    // Assess
    expect(CrisisDirectorySchema.safeParse(directory({ US: [line()], GB: [line({ id: "gb", text: { number: "85258", message: "SHOUT" }, call: undefined })] })).success).toBe(true);
  });
});

describe("directory versions", () => {
  it.each([
    { case: "the first stored version after the bundled one", stored: undefined, expected: 2 },
    { case: "one above the stored version", stored: 7, expected: 8 },
    { case: "never at or below the bundled version", stored: 1, expected: 2 },
  ])("are $case", ({ stored, expected }) => {
    // Assess
    expect(nextDirectoryVersion(stored)).toBe(expected);
  });

  it.each([
    { case: "nothing stored", stored: undefined, expected: 1 },
    { case: "a stored newer version", stored: { ...BUNDLED_DIRECTORY, version: 5 }, expected: 5 },
  ])("the current one with $case", ({ stored, expected }) => {
    // Assess
    expect(currentDirectory(stored).version).toBe(expected);
  });
});
