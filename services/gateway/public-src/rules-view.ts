/**
 * Admins change the alert rules here: the document set through the API
 * (the rules file's content as JSON), validated and applied by the gateway
 * and the alerters without a restart, every change in the audit. Only
 * shown to admins; the gateway answers 403 to anyone else anyway.
 */
import type { RulesInForce } from '@quantmon/shared';
import { api } from './api.js';
import { byId, el } from './format.js';

interface RulesDocument {
  version: number;
  rules: Record<string, unknown>;
  by: string;
  at: number;
  comment?: string;
}

const TEMPLATE = {
  rules: {
    drawdown_exceeded: { threshold: 0.12 },
  },
};

export async function loadRulesView(): Promise<void> {
  const [inForce, doc] = await Promise.all([
    api<RulesInForce>('GET', '/api/rules').catch(() => undefined),
    api<RulesDocument>('GET', '/api/rules/document').catch(() => undefined),
  ]);
  byId('rules-source').textContent = doc
    ? `In force: version ${doc.version}, set through the API by ${doc.by} at ${new Date(doc.at).toLocaleString()}${doc.comment ? ` (“${doc.comment}”)` : ''}.`
    : `In force: the alerters' rules file${inForce?.file ? ` (${inForce.file})` : ''} or the defaults. Saving here replaces it on every alerter until removed.`;
  const editor = byId<HTMLTextAreaElement>('rules-editor');
  if (!editor.dataset['dirty']) editor.value = JSON.stringify(doc?.rules ?? TEMPLATE, null, 2);
  editor.oninput = () => (editor.dataset['dirty'] = '1');
  byId('rules-list').replaceChildren(
    ...(inForce?.rules ?? []).map((r) => {
      const li = el(
        'li',
        { className: r.level },
        el('span', { className: 'badge', textContent: r.level }),
        ` ${r.name} · ${r.metric} ${r.comparison} ${r.threshold}${r.clearThreshold !== null ? ` (clears at ${r.clearThreshold})` : ''} · ${r.subject} · ${r.origin}`,
      );
      li.dataset['rule'] = r.name;
      return li;
    }),
  );
}

export function wireRulesView(): void {
  const result = byId('rules-result');
  byId<HTMLButtonElement>('rules-save').onclick = async () => {
    const editor = byId<HTMLTextAreaElement>('rules-editor');
    try {
      const rules = JSON.parse(editor.value) as unknown;
      const r = await api<{ version: number; changes: string[] }>('PUT', '/api/rules', {
        rules,
      });
      result.textContent = `Applied version ${r.version}: ${r.changes.join(', ') || 'no change'}; the alerters reload within seconds.`;
      delete editor.dataset['dirty'];
      setTimeout(() => void loadRulesView(), 3000);
    } catch (err) {
      result.textContent = (err as Error).message;
    }
  };
  byId<HTMLButtonElement>('rules-remove').onclick = async () => {
    try {
      await api('DELETE', '/api/rules');
      result.textContent = 'Removed: the alerters go back to their rules file.';
      setTimeout(() => void loadRulesView(), 3000);
    } catch (err) {
      result.textContent = (err as Error).message;
    }
  };
}
