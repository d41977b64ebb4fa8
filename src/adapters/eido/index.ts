/** NENA EIDO intake: the schema of what the service reads and the one mapping to a call event. */
export { EIDO_MEDIA_TYPE, EidoSchema, MAX_NOTES_CHARS, type Eido } from './schema.ts';
export {
  eidoToCallEvent,
  jsonPointer,
  type EidoContext,
  type EidoError,
  type EidoResult,
} from './to-call-event.ts';
