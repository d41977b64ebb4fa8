import type { Command } from './main.ts';

/** Rules commands: `rules validate`, `rules test`, `classify`, `eval` (filled in by the rules engine). */
export const rulesCommands: Record<string, Command> = {};
