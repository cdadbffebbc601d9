/**
 * The bundled crisis directory: the copy the crisis function serves when nothing newer is
 * stored or storage cannot be read (SPEC.md §4.2, §5). Data, not logic: operators replace it at
 * run time (`npx paysync crisis-directory set FILE`); a release only refreshes this seed.
 *
 * Every line's `sourceUrl` is its official site; `lastChecked` is the day this file was
 * written from the lines' published details, without a live check against the site — re-check
 * each line before a release (docs/CRISIS.md).
 */
import type { z } from "zod";
import type { CrisisDirectorySchema } from "../api/crisis-directory.js";

const CHECKED = "2026-12-02";
const ALWAYS = "24 hours, 7 days";

export const BUNDLED_DIRECTORY_DATA: z.input<typeof CrisisDirectorySchema> = {
  regions: {
    US: [
      {
        id: "us-988", name: "988 Suicide & Crisis Lifeline", call: "988", text: { number: "988" }, chatUrl: "https://988lifeline.org/chat/",
        // Press 3 (LGBTQI+ youth) ended in July 2025: not listed.
        options: [
          { press: "1", description: "Veterans Crisis Line" },
          { press: "2", description: "Spanish (en español)" },
        ],
        languages: ["en", "es"], hours: ALWAYS, sourceUrl: "https://988lifeline.org/", lastChecked: CHECKED,
      },
      {
        id: "us-crisis-text-line", name: "Crisis Text Line", text: { number: "741741", message: "HOME" },
        languages: ["en"], hours: ALWAYS, sourceUrl: "https://www.crisistextline.org/", lastChecked: CHECKED,
      },
    ],
    GB: [
      {
        id: "gb-samaritans", name: "Samaritans", call: "116 123",
        languages: ["en"], hours: ALWAYS, sourceUrl: "https://www.samaritans.org/", lastChecked: CHECKED,
      },
      {
        id: "gb-shout", name: "Shout", text: { number: "85258", message: "SHOUT" },
        languages: ["en"], hours: ALWAYS, sourceUrl: "https://giveusashout.org/", lastChecked: CHECKED,
      },
    ],
    IE: [
      {
        id: "ie-samaritans", name: "Samaritans Ireland", call: "116 123",
        languages: ["en"], hours: ALWAYS, sourceUrl: "https://www.samaritans.org/ireland/", lastChecked: CHECKED,
      },
    ],
    CA: [
      {
        id: "ca-988", name: "9-8-8 Suicide Crisis Helpline", call: "988", text: { number: "988" },
        languages: ["en", "fr"], hours: ALWAYS, sourceUrl: "https://988.ca/", lastChecked: CHECKED,
      },
    ],
    AU: [
      {
        id: "au-lifeline", name: "Lifeline Australia", call: "13 11 14",
        languages: ["en"], hours: ALWAYS, sourceUrl: "https://www.lifeline.org.au/", lastChecked: CHECKED,
      },
    ],
  },
  fallback: [
    {
      id: "intl-find-a-helpline", name: "Find A Helpline (international directory)", url: "https://findahelpline.com/",
      languages: ["en"], hours: "Always available (a directory of free helplines by country)", sourceUrl: "https://findahelpline.com/", lastChecked: CHECKED,
    },
  ],
};
