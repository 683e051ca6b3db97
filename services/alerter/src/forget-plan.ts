import {
  compareStreamIds,
  groupPosition,
  idleSweepIntervalMs,
  parseJson,
  RetireRequest,
  type Logger,
  type PartitionKeys,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { AlerterCore } from './alerter-core.js';
import type { ForgetReason } from './forget-subject.js';

/** Subjects per batch (one fenced write each): no long Redis or event-loop stall. */
const SLICE = 500;

/** Subjects to forget together, for one reason. */
export interface ForgetBatch {
  subjects: Set<string>;
  why: ForgetReason;
  /** Strategies whose retire request this batch applies (cleared once done). */
  retired: string[];
}

/** What AlertEngine.forget runs: pick inside the engine's turn, done after the write. */
export interface ForgetPlan {
  pick(core: AlerterCore, now: number): Promise<ForgetBatch[]>;
  done(batch: ForgetBatch): Promise<void>;
}

export interface AlerterForgetDeps {
  redis: Redis;
  pk: PartitionKeys;
  /** The alerter group on the scores stream: a retirement waits until it has read past the scorer's last update. */
  group: string;
  /** IDLE_FORGET_AFTER in ms; 0: only retirements. */
  afterMs: number;
  log: Logger;
  onForgotten?: (reason: 'idle' | 'retired', n: number) => void;
}

/**
 * The alerter's forgetting for one term of one partition. Retirements come
 * from the partition's alerter retire hash, put there by the scorer once it
 * dropped the windows (RetireRequest.scoresId): each is applied once the
 * alerter group has read the scores stream that far, so no update of the
 * old windows arrives after the strategy's incidents are closed. Idle
 * subjects are those whose last input is IDLE_FORGET_AFTER old (their
 * last-seen time, kept in Redis, survives restarts).
 */
export class AlerterForgetPlan implements ForgetPlan {
  private nextIdle = 0;

  constructor(private readonly deps: AlerterForgetDeps) {}

  async pick(core: AlerterCore, now: number): Promise<ForgetBatch[]> {
    const out = await this.retirements();
    const { afterMs } = this.deps;
    if (afterMs > 0 && now >= this.nextIdle) {
      this.nextIdle = now + idleSweepIntervalMs(afterMs);
      const idle = core.idleSubjects(now - afterMs);
      for (let i = 0; i < idle.length; i += SLICE) {
        const subjects = new Set(idle.slice(i, i + SLICE));
        out.push({ subjects, why: { kind: 'idle', afterMs }, retired: [] });
      }
    }
    return out;
  }

  async done(batch: ForgetBatch): Promise<void> {
    const { redis, pk, log } = this.deps;
    await redis.hdel(pk.lastSeen, ...batch.subjects);
    if (batch.retired.length > 0) await redis.hdel(pk.retire('alerter'), ...batch.retired);
    const reason = batch.why.kind;
    this.deps.onForgotten?.(reason, batch.subjects.size);
    log.info({ reason, subjects: batch.subjects.size }, `forgot ${reason} subjects`);
  }

  private async retirements(): Promise<ForgetBatch[]> {
    const { redis, pk, group, log } = this.deps;
    const raw = await redis.hgetall(pk.retire('alerter'));
    const strategies = Object.keys(raw);
    if (strategies.length === 0) return [];
    const read = await groupPosition(redis, pk.scores, group, '$');
    const out: ForgetBatch[] = [];
    for (const strategy of strategies) {
      const req = parseJson(raw[strategy]!, RetireRequest);
      if (!req) log.warn({ strategy }, 'unreadable retire request: retiring all the same');
      if (req?.scoresId && compareStreamIds(read.id, req.scoresId) < 0) continue; // not read that far yet
      const why: ForgetReason = { kind: 'retired', by: req?.by ?? 'unknown', at: req?.at ?? 0 };
      out.push({ subjects: new Set([`strategy/${strategy}`]), why, retired: [strategy] });
    }
    return out;
  }
}
