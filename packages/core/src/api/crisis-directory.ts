/**
 * Wire schemas of the crisis directory (SPEC.md §4.2): crisis lines by region (ISO 3166-1
 * alpha-2), each with how to reach it, its menu options, languages, hours, the source it was
 * taken from and the day it was last checked; plus the international fallback every answer
 * carries. The same schema validates the bundled copy, an operator's update and the answer.
 *
 * @example
 * CrisisDirectorySchema.parse({ regions: { US: [line] }, fallback: [findAHelpline] });
 * RegionQuerySchema.parse("gb"); // "GB"
 */
import { z } from "zod";
import { DateTimeSchema, IdSchema } from "./common.js";

/** An ISO 3166-1 alpha-2 code as stored: two capital letters. */
export const RegionCodeSchema = z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code, e.g. US");
export type RegionCode = z.infer<typeof RegionCodeSchema>;

/** A region as devices send it: two letters in either case. */
export const RegionInputSchema = z.string().regex(/^[A-Za-z]{2}$/, "must be an ISO 3166-1 alpha-2 code (two letters), e.g. US");

/** The stored spelling of a region a device sent. */
export const normalizeRegion = (code: string): RegionCode => code.toUpperCase();

/** `?region=`: two letters in either case, normalised to capitals. */
export const RegionQuerySchema = RegionInputSchema.transform(normalizeRegion);

const PhoneNumberSchema = z.string().regex(/^\+?[0-9][0-9 -]{1,30}$/, "must be a number to dial or text, e.g. 988 or 116 123");
const HttpsUrlSchema = z.url({ protocol: /^https$/ }).max(500);
/** The day a line was last checked against its source (no time: checks are by the day). */
const CheckedDateSchema = z.iso.date();

export const CrisisLineOptionSchema = z.strictObject({
  /** The key to press once connected, e.g. `1`. */
  press: z.string().regex(/^[0-9*#]{1,4}$/),
  description: z.string().trim().min(1).max(200),
});

export const CrisisTextSchema = z.strictObject({
  number: PhoneNumberSchema,
  /** The keyword to send, when the line asks for one (Crisis Text Line: `HOME`). */
  message: z.string().trim().min(1).max(40).optional(),
});

/** One crisis line; it needs at least one way to reach it. */
export const CrisisLineSchema = z.strictObject({
  id: IdSchema,
  name: z.string().trim().min(1).max(200),
  call: PhoneNumberSchema.optional(),
  text: CrisisTextSchema.optional(),
  chatUrl: HttpsUrlSchema.optional(),
  /** A website that is itself the help (the international fallback). */
  url: HttpsUrlSchema.optional(),
  /** Phone menu options once connected (988: 1 Veterans Crisis Line, 2 Spanish). */
  options: z.array(CrisisLineOptionSchema).max(10).default([]),
  /** BCP 47 language tags, e.g. `en`, `es`. */
  languages: z.array(z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a BCP 47 tag, e.g. en")).min(1).max(30),
  hours: z.string().trim().min(1).max(200),
  /** Where the line's details were taken from: its official site. */
  sourceUrl: HttpsUrlSchema,
  lastChecked: CheckedDateSchema,
}).refine((line) => line.call !== undefined || line.text !== undefined || line.chatUrl !== undefined || line.url !== undefined, {
  message: "A crisis line needs a way to reach it: call, text, chatUrl or url",
});
export type CrisisLine = z.infer<typeof CrisisLineSchema>;

export const MAX_DIRECTORY_REGIONS = 250;
export const MAX_LINES_PER_REGION = 20;

/** The region answered when neither the request nor the user names one (SPEC.md §4.2). */
export const DEFAULT_REGION: RegionCode = "US";

/**
 * The directory an operator sends (`PUT /admin/crisis-directory`) and every version holds. The
 * default region must have lines (a user who never chose a region gets them), and line ids are
 * unique across the directory (devices may key on them).
 */
export const CrisisDirectorySchema = z.strictObject({
  regions: z.record(RegionCodeSchema, z.array(CrisisLineSchema).min(1).max(MAX_LINES_PER_REGION)),
  fallback: z.array(CrisisLineSchema).min(1).max(MAX_LINES_PER_REGION),
}).superRefine((directory, context) => {
  const regions = Object.keys(directory.regions);
  if (regions.length > MAX_DIRECTORY_REGIONS) {
    context.addIssue({ code: "custom", path: ["regions"], message: `At most ${MAX_DIRECTORY_REGIONS} regions` });
  }
  if (!regions.includes(DEFAULT_REGION)) {
    context.addIssue({ code: "custom", path: ["regions", DEFAULT_REGION], message: `The default region ${DEFAULT_REGION} needs lines` });
  }
  const seen = new Set<string>();
  for (const [where, lines] of [...Object.entries(directory.regions), ["fallback", directory.fallback] as const]) {
    lines.forEach((line, index) => {
      if (seen.has(line.id)) context.addIssue({ code: "custom", path: where === "fallback" ? ["fallback", index, "id"] : ["regions", where, index, "id"], message: `Line id ${line.id} is used twice` });
      seen.add(line.id);
    });
  }
});
export type CrisisDirectory = z.infer<typeof CrisisDirectorySchema>;

/** Versions only grow; the bundled copy is version 1, so the first stored one is 2. */
export const DirectoryVersionSchema = z.number().int().positive();

/** A version of the directory: what DynamoDB keeps, the `crisis_directory` change carries and the admin route answers. */
export const CrisisDirectoryVersionSchema = z.object({
  version: DirectoryVersionSchema,
  updatedAt: DateTimeSchema,
  directory: CrisisDirectorySchema,
});
export type CrisisDirectoryVersion = z.infer<typeof CrisisDirectoryVersionSchema>;
