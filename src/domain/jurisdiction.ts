/**
 * The one canonical jurisdiction id. CADs differ in case and spacing ("New Haven", "NEW HAVEN",
 * "new-haven"); the pipeline turns the call's jurisdiction into this id at intake, and policies, API
 * keys, repeat-call counts, storage and reports all use it, so one town is one id everywhere.
 */
export const jurisdictionId = (name: string) => name.trim().toLowerCase().replace(/\s+/g, '-');
