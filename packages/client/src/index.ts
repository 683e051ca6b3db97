/**
 * @quantmon/client: what a trading system's code needs from quantmon,
 * compiled to JavaScript with type declarations, installable from a path or
 * an `npm pack` tarball into any Node >= 20.19 project.
 *
 * - the wire schemas (zod) and their types: samples, score updates, alert
 *   events, emergency job data;
 * - `publishSamples` / `publishSampleBatch`: write samples straight to
 *   quantmon's Redis with the same validation, partitioning, idempotency and
 *   ordering as `POST /v1/samples`;
 * - `SampleSocket`: the collector's ingest socket, many samples in flight
 *   on one connection, each answered as the POST would be;
 * - `createEmergencyWorker`: a BullMQ worker for the `quantmon-emergency`
 *   queue whose handlers receive validated, typed job data.
 *
 * It imports the modules of packages/shared by relative path, so tsc
 * compiles exactly those into this package's dist/.
 */
export {
  StrategySampleInput,
  StrategySample,
  IngestBody,
} from '../../shared/src/schemas/strategy-sample.js';
export {
  ScoreUpdate,
  Scores,
  ScoreStatus,
  StrategyMetrics,
  MetricValue,
  fromMetricValue,
} from '../../shared/src/schemas/score-update.js';
export { SystemSample } from '../../shared/src/schemas/system-sample.js';
export {
  AlertEvent,
  AlertLevel,
  AlertState,
  Acknowledgement,
} from '../../shared/src/schemas/alert-event.js';
export { EmergencyJobData } from '../../shared/src/schemas/emergency-job.js';
export { METRIC_NAMES, type MetricName } from '../../shared/src/metric-names.js';
export { EMERGENCY_QUEUE, EMERGENCY_JOB } from '../../shared/src/keys.js';
export {
  publishSamples,
  publishSampleBatch,
  SampleValidationError,
  type AppendResult,
  type PublishOptions,
  type SampleOutcome,
} from '../../shared/src/publish-samples.js';
export {
  SampleSocket,
  SampleSocketClosedError,
  SampleSocketRefusedError,
  type SampleSocketOptions,
} from './sample-socket.js';
export {
  IngestAccepted,
  IngestSocketAnswer,
  IngestSocketAccepted,
  IngestSocketRefused,
} from '../../shared/src/schemas/api.js';
export {
  createEmergencyWorker,
  EMERGENCY_WORKER_DEFAULTS,
  parseEmergencyJob,
  type EmergencyHandler,
  type EmergencyWorkerOptions,
} from './emergency-worker.js';
