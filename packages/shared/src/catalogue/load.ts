import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import type { Keys } from '../keys.js';
import { compileCatalogue, type Catalogue, type StrategyParams } from './resolve.js';
import { CatalogueDocument } from './schema.js';

/** Where the catalogue in force came from. */
export type CatalogueSource = 'api' | 'file' | 'none';

export interface LoadedCatalogue {
  catalogue: Catalogue;
  source: CatalogueSource;
  /** The API document's version when source is `api`. */
  docVersion?: number;
}

/**
 * Read and compile a catalogue file: JSON by its .json extension, YAML
 * otherwise. No path: the empty catalogue (today's defaults). Throws
 * CatalogueError (every bad entry named) or an Error for a file that cannot
 * be read or parsed.
 */
export async function loadCatalogueFile(
  path: string | undefined,
  base?: Readonly<StrategyParams>,
): Promise<Catalogue> {
  if (!path) return compileCatalogue({}, base);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return compileCatalogue(parseCatalogueText(text, extname(path) === '.json'), base);
}

/** YAML (a superset of JSON) or strict JSON; throws naming the format and the parser's complaint. */
export function parseCatalogueText(text: string, json: boolean): unknown {
  try {
    return json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`not valid ${json ? 'JSON' : 'YAML'}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** The document set through the admin API; undefined when none. Throws when it fails its schema. */
export async function readCatalogueDoc(
  redis: Redis,
  keys: Keys,
): Promise<CatalogueDocument | undefined> {
  const raw = await redis.get(keys.catalogueDoc);
  if (raw === null) return undefined;
  return CatalogueDocument.parse(JSON.parse(raw));
}

/** What the poller compares: the stored version, or "none". */
export async function catalogueDocVersion(redis: Redis, keys: Keys): Promise<string> {
  const raw = await redis.get(keys.catalogueDoc);
  if (raw === null) return 'none';
  const v = (JSON.parse(raw) as { version?: unknown }).version;
  return typeof v === 'number' ? String(v) : 'unreadable';
}

/**
 * The catalogue in force: the admin API's document while one is stored
 * (every replica of every service reads the same key), else the file, else
 * the empty catalogue. Throws on a bad document or file: a caller that
 * already has a catalogue keeps it (watch.ts).
 */
export async function loadCatalogueInForce(
  redis: Redis,
  keys: Keys,
  file: string | undefined,
  base?: Readonly<StrategyParams>,
): Promise<LoadedCatalogue> {
  const doc = await readCatalogueDoc(redis, keys);
  if (doc) {
    return {
      catalogue: compileCatalogue(doc.catalogue, base),
      source: 'api',
      docVersion: doc.version,
    };
  }
  return { catalogue: await loadCatalogueFile(file, base), source: file ? 'file' : 'none' };
}
