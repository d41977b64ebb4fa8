/**
 * Labelled cases of the dev set as call events, for tests that need realistic calls. Read from the
 * in-repo copy (test/rules/fixtures/dev.jsonl, copied from shared/eval/dev.jsonl, 307 cases), so
 * the tests run where the shared folder is not mounted.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CallEvent } from '../../src/domain/call-event.ts';

export const DEV_CASES_PATH = fileURLToPath(new URL('../rules/fixtures/dev.jsonl', import.meta.url));

export interface LabelledCase {
  id: string;
  call: CallEvent;
  expect: { categories: string[]; gate?: string };
}

export function devCases(): LabelledCase[] {
  return readFileSync(DEV_CASES_PATH, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LabelledCase);
}

let seq = 0;
/** A copy of `call` with fresh event and incident ids (unique per test run) and optional overrides. */
export function freshCall(call: CallEvent, overrides: Partial<CallEvent> = {}): CallEvent {
  seq += 1;
  const tag = `${process.pid}-${Date.now().toString(36)}-${seq}`;
  return { ...call, eventId: `evt-${tag}`, incidentId: `INC-${tag}`, ...overrides };
}
