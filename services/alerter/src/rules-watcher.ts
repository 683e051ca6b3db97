import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '@quantmon/shared';

export interface RulesWatcherOptions {
  path: string | undefined;
  /** Also watch the file (SIGHUP reloads either way). */
  watchFile: boolean;
  debounceMs?: number;
  log: Logger;
  reload: () => Promise<void>;
  /** Also reload when this answer changes (the API's rules document version, rules-store.ts). */
  poll?: { read: () => Promise<string>; everyMs: number };
}

/**
 * Hot reload: SIGHUP, and changes to the rules file (its directory is
 * watched, since editors replace files by rename), debounced so one save
 * reloads once. Reloads never overlap. Returns a close function.
 */
export function watchRules(opts: RulesWatcherOptions): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const trigger = (why: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      opts.log.info({ why }, 'reloading rules');
      running = running.then(opts.reload).catch(() => undefined);
    }, opts.debounceMs ?? 200);
  };
  const onHup = (): void => trigger('SIGHUP');
  process.on('SIGHUP', onHup);
  let watcher: FSWatcher | undefined;
  if (opts.path && opts.watchFile) {
    const name = basename(opts.path);
    try {
      watcher = watch(dirname(opts.path), (_event, file) => {
        if (file === null || file.toString() === name) trigger('file changed');
      });
      watcher.on('error', (err) => opts.log.warn({ err: err.message }, 'rules watcher error'));
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'cannot watch the rules file; SIGHUP reloads');
    }
  }
  let last = 'none';
  const poller = opts.poll
    ? setInterval(() => {
        opts.poll
          ?.read()
          .then((v) => {
            if (v !== last) trigger(`rules document ${last} -> ${v}`);
            last = v;
          })
          .catch((err: unknown) => opts.log.warn({ err }, 'rules document not readable'));
      }, opts.poll.everyMs)
    : undefined;
  return () => {
    clearInterval(poller);
    clearTimeout(timer);
    process.off('SIGHUP', onHup);
    watcher?.close();
  };
}
