import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.js';
import type { Logger } from '../logger.js';
import {
  catalogueDocVersion,
  loadCatalogueFile,
  loadCatalogueInForce,
  type CatalogueSource,
  type LoadedCatalogue,
} from './load.js';
import { CatalogueError, type Catalogue, type StrategyParams } from './resolve.js';

/** How often every service checks the API document's version (as the alerters poll the rules document). */
export const CATALOGUE_POLL_MS = 2000;

export interface LiveCatalogueOptions {
  redis: Redis;
  keys: Keys;
  /** STRATEGIES_FILE. */
  file: string | undefined;
  base?: Readonly<StrategyParams>;
  log: Logger;
  pollMs?: number;
  debounceMs?: number;
}

type Listener = (next: Catalogue, previous: Catalogue, source: CatalogueSource) => void;

/**
 * The catalogue in force, kept current without a restart: reloaded on
 * SIGHUP, on a change of the file (its directory is watched, since editors
 * replace files by rename), and when the admin API's document version in
 * Redis changes (polled). A reload that fails (a bad edit) is logged with
 * every problem named and the previous catalogue stays. Reloads never
 * overlap; listeners run only when the content changed.
 */
export class LiveCatalogue {
  private catalogue: Catalogue;
  private source: CatalogueSource;
  private readonly listeners: Listener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private running: Promise<void> = Promise.resolve();
  private lastDocVersion = 'none';
  private closed = false;
  private readonly onHup = (): void => this.trigger('SIGHUP');

  private constructor(
    private readonly opts: LiveCatalogueOptions,
    first: LoadedCatalogue,
    docVersion: string,
  ) {
    this.catalogue = first.catalogue;
    this.source = first.source;
    this.lastDocVersion = docVersion;
  }

  /**
   * Load the catalogue in force and start watching. A bad file at start
   * throws (main.ts exits naming the problems); a bad API document at start
   * is logged and the file is used until the document is fixed.
   */
  static async start(opts: LiveCatalogueOptions): Promise<LiveCatalogue> {
    const docVersion = await catalogueDocVersion(opts.redis, opts.keys);
    let first: LoadedCatalogue;
    try {
      first = await loadCatalogueInForce(opts.redis, opts.keys, opts.file, opts.base);
    } catch (err) {
      if (docVersion === 'none') throw err;
      opts.log.error(
        { err, docVersion },
        'the catalogue set through the API is invalid: using STRATEGIES_FILE until it is fixed',
      );
      first = {
        catalogue: await loadCatalogueFile(opts.file, opts.base),
        source: opts.file ? 'file' : 'none',
      };
    }
    const live = new LiveCatalogue(opts, first, docVersion);
    live.startWatching();
    opts.log.info(
      { source: first.source, version: first.catalogue.version, file: opts.file ?? null },
      'strategy catalogue loaded',
    );
    return live;
  }

  get current(): Catalogue {
    return this.catalogue;
  }

  get currentSource(): CatalogueSource {
    return this.source;
  }

  /** Called after each reload that changed the content. Returns an unsubscribe function. */
  onChange(fn: Listener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Reload now (also what the watchers call); resolves when done, never rejects. */
  reload(why = 'requested'): Promise<void> {
    this.running = this.running.then(() => this.load(why));
    return this.running;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.poller);
    process.off('SIGHUP', this.onHup);
    this.watcher?.close();
  }

  private async load(why: string): Promise<void> {
    if (this.closed) return;
    const { redis, keys, file, base, log } = this.opts;
    try {
      const next = await loadCatalogueInForce(redis, keys, file, base);
      const previous = this.catalogue;
      this.catalogue = next.catalogue;
      this.source = next.source;
      if (next.catalogue.version === previous.version) {
        log.debug({ why, version: previous.version }, 'strategy catalogue unchanged');
        return;
      }
      log.info(
        { why, source: next.source, version: next.catalogue.version, previous: previous.version },
        'strategy catalogue reloaded',
      );
      for (const fn of this.listeners) {
        try {
          fn(next.catalogue, previous, next.source);
        } catch (err) {
          log.error({ err }, 'strategy catalogue listener failed');
        }
      }
    } catch (err) {
      const issues = err instanceof CatalogueError ? err.issues : undefined;
      log.error(
        { why, err: issues ? undefined : err, issues, version: this.catalogue.version },
        'strategy catalogue reload failed: keeping the previous catalogue',
      );
    }
  }

  private trigger(why: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(why), this.opts.debounceMs ?? 200);
  }

  private startWatching(): void {
    const { file, log } = this.opts;
    process.on('SIGHUP', this.onHup);
    if (file) {
      const name = basename(file);
      try {
        this.watcher = watch(dirname(file), (_event, f) => {
          if (f === null || f.toString() === name) this.trigger('file changed');
        });
        this.watcher.on('error', (err) => log.warn({ err }, 'catalogue file watcher error'));
      } catch (err) {
        log.warn({ err }, 'cannot watch the catalogue file; SIGHUP reloads');
      }
    }
    this.poller = setInterval(() => {
      catalogueDocVersion(this.opts.redis, this.opts.keys)
        .then((v) => {
          if (v !== this.lastDocVersion)
            this.trigger(`catalogue document ${this.lastDocVersion} -> ${v}`);
          this.lastDocVersion = v;
        })
        .catch((err: unknown) => log.warn({ err }, 'catalogue document not readable'));
    }, this.opts.pollMs ?? CATALOGUE_POLL_MS);
    this.poller.unref();
  }
}
