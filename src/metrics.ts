import type { TriageOutcome } from './triage/pipeline.ts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The service's Prometheus metrics, on a registry of its own (no global state, so tests can build
 * several apps in one process).
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  return {
    registry,
    eventsIn: new Counter({
      name: 'cad_triage_events_total',
      help: 'Call events received',
      labelNames: ['transport'],
      registers: r,
    }),
    outcomes: new Counter({
      name: 'cad_triage_outcomes_total',
      help: 'Triage outcomes: decided, duplicate, stale, invalid',
      labelNames: ['transport', 'outcome'],
      registers: r,
    }),
    decisions: new Counter({
      name: 'cad_triage_decisions_total',
      help: 'Decisions by gate and response mode',
      labelNames: ['gate', 'mode'],
      registers: r,
    }),
    decisionCategories: new Counter({
      name: 'cad_triage_decision_categories_total',
      help: 'Decisions by category (a decision may count under several)',
      labelNames: ['category'],
      registers: r,
    }),
    deadLetters: new Counter({
      name: 'cad_triage_dead_letters_total',
      help: 'Records dead-lettered, by error code',
      labelNames: ['code'],
      registers: r,
    }),
    processing: new Histogram({
      name: 'cad_triage_processing_seconds',
      help: 'Time to triage one event (validate to persisted and emitted)',
      labelNames: ['transport'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    eventToDecision: new Histogram({
      name: 'cad_triage_event_to_decision_seconds',
      help: 'Time from the Kafka record timestamp to the decision being emitted',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    pauses: new Counter({
      name: 'cad_triage_consumer_pauses_total',
      help: 'Partitions paused because PostgreSQL, Redis or Kafka was down',
      labelNames: ['partition'],
      registers: r,
    }),
    stalled: new Gauge({
      name: 'cad_triage_consumer_stalled',
      help: '1 while a partition has lag and its committed position has not moved for 30 s',
      labelNames: ['partition'],
      registers: r,
    }),
    lag: new Gauge({
      name: 'cad_triage_consumer_lag',
      help: 'Consumer lag by partition',
      labelNames: ['partition'],
      registers: r,
    }),
    versions: new Gauge({
      name: 'cad_triage_versions_info',
      help: 'Rules and policy versions in use (value 1)',
      labelNames: ['kind', 'version'],
      registers: r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Counts one triage outcome, whichever transport it came by. */
export function recordOutcome(metrics: Metrics, transport: 'kafka' | 'rest', outcome: TriageOutcome): void {
  metrics.outcomes.inc({ transport, outcome: outcome.kind });
  if (outcome.kind !== 'decided') return;
  const d = outcome.decision;
  metrics.decisions.inc({ gate: d.gate.value, mode: d.routing.mode });
  for (const c of d.categories) metrics.decisionCategories.inc({ category: c.category });
}
