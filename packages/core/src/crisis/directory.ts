/**
 * The crisis directory's pure rules (SPEC.md §4.2): which region a call is answered for, the
 * lines it gets, the next version number, and the bundled copy served when nothing newer is
 * stored or storage fails.
 *
 * - Region: `?region=` if given, else the user's saved region, else US. A malformed code is a
 *   400 (a client bug to fix, see `RegionQuerySchema`); a well-formed code the directory does
 *   not list gets no regional lines, only the international fallback — never an error, so a
 *   person abroad still gets help. `UK` is read as `GB` (its ISO code), as people type it.
 * - Versions only grow: the bundled copy is version 1, every stored update the current one + 1.
 *
 * @example
 * resolveRegion(undefined, "GB");                  // "GB"
 * directoryLines(BUNDLED_DIRECTORY, "FR").lines;   // [] — FR gets the fallback only
 * nextDirectoryVersion(undefined);                 // 2
 */
import {
  CrisisDirectorySchema, DEFAULT_REGION, type CrisisDirectoryVersion, type CrisisLine, type RegionCode,
} from "../api/crisis-directory.js";
import { BUNDLED_DIRECTORY_DATA } from "./directory-data.js";

/** The bundled copy: validated once, at import, so a broken seed fails every test and the build. */
export const BUNDLED_DIRECTORY: CrisisDirectoryVersion = {
  version: 1,
  updatedAt: "2026-12-02T00:00:00.000Z",
  directory: CrisisDirectorySchema.parse(BUNDLED_DIRECTORY_DATA),
};

/** Common spellings that are not the ISO code. */
const REGION_ALIASES: Readonly<Record<string, RegionCode>> = { UK: "GB" };

/** The region a call is answered for: the request's, else the saved one, else the default. */
export function resolveRegion(requested: RegionCode | undefined, saved: RegionCode | undefined): RegionCode {
  const region = requested ?? saved ?? DEFAULT_REGION;
  return REGION_ALIASES[region] ?? region;
}

export interface DirectoryLines {
  region: RegionCode;
  /** The region's own lines; empty when the directory lists none for it. */
  lines: CrisisLine[];
  /** The international fallback, always. */
  fallback: CrisisLine[];
  directoryVersion: number;
}

/** What a crisis answer carries of the directory for one region. */
export function directoryLines(current: CrisisDirectoryVersion, region: RegionCode): DirectoryLines {
  return {
    region,
    lines: current.directory.regions[region] ?? [],
    fallback: current.directory.fallback,
    directoryVersion: current.version,
  };
}

/** The version an update gets: one above the current stored one, and never at or below the bundled copy. */
export function nextDirectoryVersion(currentStored: number | undefined): number {
  return Math.max(currentStored ?? BUNDLED_DIRECTORY.version, BUNDLED_DIRECTORY.version) + 1;
}

/** The newer of what storage holds and the bundled copy (a fresh install has nothing stored). */
export function currentDirectory(stored: CrisisDirectoryVersion | undefined): CrisisDirectoryVersion {
  return stored !== undefined && stored.version > BUNDLED_DIRECTORY.version ? stored : BUNDLED_DIRECTORY;
}

/** The entity id of the one `crisis_directory` entity a device holds. */
export const DIRECTORY_ENTITY_ID = "current";

/**
 * Whether a pull page carries the directory: when the version its cursor says the device was
 * given is older than the current one (0: never given one — every bootstrap's first page).
 */
export function pullCarriesDirectory(knownVersion: number, current: CrisisDirectoryVersion): boolean {
  return current.version > knownVersion;
}
