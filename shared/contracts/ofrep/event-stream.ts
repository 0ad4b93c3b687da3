/**
 * Where the evaluation service serves OFREP event streams (ADR-0008 of open-feature/protocol). The URL carries the
 * token that authorizes the stream: telemetry and logs must never record it.
 */
export const ofrepEventStreamPath = '/ofrep/v1/event-stream';
