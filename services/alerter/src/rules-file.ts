import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compileRules, type RuleSet } from './rules.js';

/**
 * Read and compile a rules file: JSON by its .json extension, YAML
 * otherwise. No file: the defaults. Throws RulesError (every bad rule and
 * field named) or an Error for an unreadable or unparsable file.
 */
export async function loadRules(path: string | undefined, noDataMs: number): Promise<RuleSet> {
  if (!path) return compileRules({}, noDataMs);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read: ${(err as Error).message}`, { cause: err });
  }
  const json = extname(path) === '.json';
  let data: unknown;
  try {
    data = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`not valid ${json ? 'JSON' : 'YAML'}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return compileRules(data, noDataMs);
}
