// The public surface of @quantmon/shared: contracts (schemas, names) and the
// plumbing every service shares (config, logger, Redis, streams, HTTP, shutdown).
export * from './schemas/common.js';
export * from './schemas/strategy-sample.js';
export * from './schemas/system-sample.js';
export * from './schemas/score-update.js';
export * from './schemas/alert-event.js';
export * from './schemas/emergency-job.js';
export * from './schemas/ws-frames.js';
export * from './schemas/api.js';
export * from './schemas/incident.js';
export * from './schemas/rules-in-force.js';
export * from './schemas/retire.js';
export * from './metric-names.js';
export * from './keys.js';
export * from './urgent-worker.js';
export * from './config.js';
export { createLogger, type Logger } from './logger.js';
export {
  createRedis,
  closeRedis,
  waitReady,
  redisOptions,
  reconnectDelay,
  clusterOptions,
  isCluster,
  type RedisRole,
  type RedisTarget,
} from './redis.js';
export { readAheadOnConnect, REDIS_READ_HIGH_WATER_MARK } from './redis-read-ahead.js';
export { replicaId } from './identity.js';
export { partitionTag } from './partition-tags.js';
export { keySlot, crc16, CLUSTER_SLOTS } from './cluster-slot.js';
export { writeWithWait, ReplicaWaitError, type ReplicaWait } from './replica-wait.js';
export {
  fnv1a32,
  partitionOf,
  allPartitions,
  ensurePartitionCount,
  PartitionCountMismatch,
  DEFAULT_PARTITIONS,
} from './partition.js';
export {
  runPartitionOwnership,
  assignPartitions,
  FENCE_LUA,
  FencedError,
  asFenced,
  type Lease,
  type PartitionOwnershipOptions,
} from './partition-leases.js';
export {
  runOwnedReader,
  groupPosition,
  setPositionsLua,
  positionArgs,
  type OwnedStream,
  type OwnedBatch,
  type StreamPosition,
  type CommitBatch,
  type ReadPause,
  type OwnedReaderOptions,
} from './partition-reader.js';
export { Shutdown } from './shutdown.js';
export { SUPERVISOR_WATCH_MS, watchSupervisor } from './supervisor-watch.js';
export { abortableSleep } from './sleep.js';
export {
  encodeEntry,
  decodeEntry,
  deadLetter,
  formatIssues,
  DATA_FIELD,
  type RawEntry,
  type Decoded,
} from './stream-codec.js';
export { runGroupConsumer, type Entry, type GroupConsumerOptions } from './group-consumer.js';
export { followStreams, resolveStart, type FollowOptions } from './stream-follower.js';
export {
  startHttpServer,
  closeHttpServer,
  sendJson,
  sendJsonBytes,
  sendJsonPieces,
  listeningPort,
  refuseUpgrade,
  type Route,
  type HttpServerOptions,
} from './http-server.js';
export type { FastRoute, FastAnswer, FastReply, HandOverReason } from './fast-http.js';
export type { RequestHead } from './http1-head.js';
export { createRegistry, DROPPED_DEFAULT_METRICS } from './prom.js';
export { tokenMatches } from './token-match.js';
export {
  compileSilenceRegex,
  SILENCE_REGEX_MAX_LENGTH,
  type SilenceRegex,
} from './silence-regex.js';
export {
  publishSamples,
  writeSamples,
  normaliseSamples,
  sampleIssues,
  SampleValidationError,
} from './publish-samples.js';
export { LAST_TS_LAYOUT_FIELD } from './ingest-script.js';
export { corkedWrites, holdWritesForTurn } from './socket-cork.js';
export { corkForTick, wsSocket } from './ws-cork.js';
export {
  appendSamples,
  publishSampleBatch,
  batchWriteOrder,
  DEFAULT_IDEMPOTENCY_TTL_SECONDS,
  type AppendOptions,
  type AppendResult,
  type PublishOptions,
  type SampleOutcome,
} from './publish-samples.js';
export {
  recordPipelineError,
  readPipelineErrors,
  PIPELINE_ERROR_TTL_SECONDS,
  PIPELINE_ERROR_WINDOW_SECONDS,
} from './pipeline-errors.js';
export * from './schemas/alert-commands.js';
export { parseJson, readJsonHash } from './json-hash.js';
export {
  ServiceHeartbeat,
  runServiceHeartbeat,
  readHeartbeats,
  parseHeartbeats,
  replicaStatus,
  serviceSilence,
  quantmonVersion,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_RETENTION_MS,
  type ReplicaStatus,
  type HeartbeatOptions,
} from './service-heartbeat.js';
export {
  SupervisorRestart,
  parseSupervisorRestarts,
  supervisorRestartField,
} from './supervisor-restarts.js';
export * from './history/index.js';
export {
  LoopHealth,
  monitorLoops,
  groupProbe,
  followerProbe,
  compareStreamIds,
  type LoopMonitor,
  type LoopProbe,
} from './loop-health.js';
export { exitOnFatal } from './fatal-errors.js';
export * from './catalogue/index.js';
export * from './expr/index.js';
export { fastScoreUpdate, fastStrategySample, fastStrategySampleInput } from './fast-guards.js';
