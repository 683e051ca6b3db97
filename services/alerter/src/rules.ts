import { RETIRED_RULE, type RuleOrigin } from '@quantmon/shared';
import { compileNoData, compileRule } from './compile-rule.js';
import { DEFAULT_INHIBIT, DEFAULT_RULE_SPECS } from './default-rules.js';
import { ruleNames } from './inhibition.js';
import type { RuleInput } from './metric-source.js';
import { nearest } from './nearest.js';
import { NO_DATA_RULE, type CompiledRule, type RuleSet } from './rule-model.js';
import {
  NEW_RULE_FIELDS,
  RulePatch,
  RuleSpec,
  RulesFile,
  type InhibitRule,
  type RuleOverride,
} from './rule-spec.js';

// Callers import the rules from here: the model (rule-model.ts) and how a
// rule applies to a subject (effective-rule.ts) live in their own files.
export type { RuleInput };
export * from './rule-model.js';
export * from './effective-rule.js';

/** A problem in a rules file, named by rule and field. */
export interface RuleIssue {
  rule: string | undefined;
  field: string;
  message: string;
}

export class RulesError extends Error {
  constructor(readonly issues: RuleIssue[]) {
    super(issues.map(formatRuleIssue).join('\n'));
    this.name = 'RulesError';
  }
}

export function formatRuleIssue(i: RuleIssue): string {
  const where = i.rule === undefined ? '' : `rule "${i.rule}", `;
  return `${where}field "${i.field || '(root)'}": ${i.message}`;
}

/**
 * The effective rule set: the defaults, patched and extended by a parsed
 * rules file (plain data from YAML or JSON). Throws RulesError naming every
 * bad rule and field. Pure.
 */
export function compileRules(file: unknown, noDataDefaultMs: number): RuleSet {
  const parsed = RulesFile.safeParse(file ?? {});
  if (!parsed.success) {
    throw new RulesError(
      parsed.error.issues.map((i) => {
        const path = i.path.map(String);
        if (path[0] === 'rules' && path.length >= 2) {
          return { rule: path[1], field: path.slice(2).join('.'), message: i.message };
        }
        return { rule: undefined, field: path.join('.'), message: i.message };
      }),
    );
  }
  const entries = parsed.data.rules ?? {};
  const issues: RuleIssue[] = [];
  const rules: CompiledRule[] = [];
  if (NO_DATA_RULE in entries) {
    issues.push({ rule: NO_DATA_RULE, field: '', message: 'reserved: configure it under noData' });
  }
  if (RETIRED_RULE in entries) {
    const message = 'reserved: the event recording DELETE /api/strategies/{id}';
    issues.push({ rule: RETIRED_RULE, field: '', message });
  }
  const names = new Set([...Object.keys(DEFAULT_RULE_SPECS), ...Object.keys(entries)]);
  for (const name of names) {
    if (name === NO_DATA_RULE || name === RETIRED_RULE) continue;
    const base = DEFAULT_RULE_SPECS[name];
    const own = RulePatch.safeParse(entries[name] ?? {});
    if (!own.success) {
      for (const i of own.error.issues) {
        issues.push({ rule: name, field: i.path.map(String).join('.'), message: i.message });
      }
      continue;
    }
    const patch = own.data;
    const merged = base
      ? {
          ...base,
          ...stripUndefined(patch),
          labels: { ...base.labels, ...patch.labels },
          overrides: mergeOverrides(base.overrides, patch.overrides),
        }
      : patch;
    const full = RuleSpec.safeParse(merged);
    const misspelt = base ? undefined : misspeltDefault(name, patch);
    if (misspelt) {
      issues.push(misspelt);
      continue;
    }
    if (!full.success) {
      for (const i of full.error.issues) {
        issues.push({ rule: name, field: i.path.map(String).join('.'), message: i.message });
      }
      continue;
    }
    if (full.data.enabled === false) continue;
    const origin: RuleOrigin = !base ? 'file' : name in entries ? 'override' : 'default';
    rules.push(compileRule(name, origin, full.data));
  }
  const inhibit = parsed.data.inhibit ?? DEFAULT_INHIBIT;
  if (parsed.data.inhibit) issues.push(...unknownInhibitRules(parsed.data.inhibit, names));
  if (issues.length > 0) throw new RulesError(issues);
  return { rules, noData: compileNoData(parsed.data.noData, noDataDefaultMs), inhibit };
}

/** Inhibition rules naming a rule that is neither a default nor in the file. */
function unknownInhibitRules(list: readonly InhibitRule[], names: Set<string>): RuleIssue[] {
  const known = [...names].filter((n) => n !== NO_DATA_RULE).concat(NO_DATA_RULE);
  const issues: RuleIssue[] = [];
  list.forEach((entry, i) => {
    for (const side of ['source', 'target'] as const) {
      for (const name of ruleNames(entry[side])) {
        if (known.includes(name)) continue;
        const hint = nearest(name, known);
        issues.push({
          rule: undefined,
          field: `inhibit.${i}.${side}.rule`,
          message: `unknown rule ${name}${hint ? `: did you mean ${hint}?` : ''} (rules: ${known.join(', ')})`,
        });
      }
    }
  });
  return issues;
}

/**
 * A file entry that is not a default and lacks the fields a new rule needs,
 * named like a default (within 3 edits): most likely a misspelt patch.
 */
function misspeltDefault(name: string, patch: RulePatch): RuleIssue | undefined {
  const missing = NEW_RULE_FIELDS.filter((f) => patch[f as keyof RulePatch] === undefined);
  if (missing.length === 0) return undefined;
  const suggestion = nearest(name, Object.keys(DEFAULT_RULE_SPECS));
  if (suggestion === undefined) return undefined;
  return {
    rule: name,
    field: '',
    message: `not a default rule: did you mean ${suggestion}? (a new rule also needs ${missing.join(', ')})`,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function mergeOverrides(
  a: Record<string, RuleOverride> | undefined,
  b: Record<string, RuleOverride> | undefined,
): Record<string, RuleOverride> {
  const out: Record<string, RuleOverride> = { ...a };
  for (const [id, o] of Object.entries(b ?? {})) out[id] = { ...out[id], ...stripUndefined(o) };
  return out;
}

/** The defaults alone. */
export function defaultRuleSet(noDataMs: number): RuleSet {
  return compileRules({}, noDataMs);
}
