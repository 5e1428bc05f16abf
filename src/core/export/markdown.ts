/**
 * A plan as a Markdown handout: the chat, what each stage did in plain words, the plan, the top
 * candidates with their reasons and the glossary; the plan itself rides along as a JSON block so the
 * handout reads back into the same plan. User and catalog text is escaped (it may hold Markdown or
 * HTML) or fenced.
 */
import { ARGUMENT_LABELS, GLOSSARY, type PlanExplanation } from '../explain.ts';
import type { ArgumentName } from '../engines/engine.ts';
import { jsonToPlanDocument, planToJson, PlanDocumentError, type PlanDocument } from './json.ts';

/**
 * Escapes text for Markdown prose on one line: the characters that open emphasis, code, links, HTML,
 * tables or entities anywhere, and a list, heading or quote marker at the start. Other punctuation
 * stays as it is, so the handout reads well as plain text too.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[\\`*_{}[\]<>|~&]/g, (c) => `\\${c}`)
    .replace(
      /^(\s*)(\d+[.)]|[#+\-=])/,
      (_, space: string, marker: string) => `${space}${marker.slice(0, -1)}\\${marker.slice(-1)}`,
    );
}

/** A fenced block long enough that no backtick run inside can close it. */
function fence(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${text}\n${f}`;
}

const ARGUMENT_ORDER: ArgumentName[] = ['sampler', 'steps', 'cfg_scale', 'width', 'height', 'seed'];
const DATA_HEADING = '## The plan as data';

export function planToMarkdown(doc: Omit<PlanDocument, 'format'> & { explanation: PlanExplanation }): string {
  const { plan, explanation: ex } = doc;
  const lines: string[] = ['# How a chat became a picture plan', ''];
  lines.push('## The chat', '');
  doc.messages.forEach((m, i) => lines.push(`${i + 1}. ${escapeMarkdown(m)}`));
  lines.push('');
  if (doc.engine) lines.push(`Planned by the ${escapeMarkdown(doc.engine.name)} engine.`, '');
  for (const n of ex.notices) lines.push(`> ${escapeMarkdown(n)}`, '');
  lines.push(
    '## 1. The prompt',
    '',
    escapeMarkdown(ex.prompt),
    '',
    '**Prompt**',
    '',
    fence(plan.prompt),
    '',
    '**Negative prompt**',
    '',
    fence(plan.negative_prompt),
    '',
  );
  lines.push('## 2. The model', '', escapeMarkdown(ex.model), '');
  lines.push(
    `**Model:** ${escapeMarkdown(plan.model.name)} (${plan.model.type}, ${escapeMarkdown(plan.model.base_model)})`,
  );
  if (plan.model.trained_words.length)
    lines.push(`**Trigger words:** ${plan.model.trained_words.map(escapeMarkdown).join(', ')}`);
  if (plan.base_checkpoint) lines.push(`**Runs on the checkpoint:** ${escapeMarkdown(plan.base_checkpoint.name)}`);
  lines.push('', 'The best candidates and why:', '');
  for (const c of ex.candidates)
    lines.push(`- **${escapeMarkdown(c.name)}**: ${c.reasons.map(escapeMarkdown).join('; ') || 'no reason given'}`);
  lines.push(
    '',
    '## 3. The settings',
    '',
    escapeMarkdown(ex.arguments),
    '',
    '| Setting | Value | Where it came from |',
    '| --- | --- | --- |',
  );
  for (const name of ARGUMENT_ORDER) {
    lines.push(
      `| ${ARGUMENT_LABELS[name]} | ${escapeMarkdown(String(plan.arguments[name]))} | ${escapeMarkdown(ex.sources[name])} |`,
    );
  }
  lines.push('', '## Words used here', '');
  for (const g of GLOSSARY) lines.push(`- **${g.term}**: ${escapeMarkdown(g.definition)}`);
  lines.push('', DATA_HEADING, '', fence(planToJson({ messages: doc.messages, plan, engine: doc.engine }), 'json'), '');
  return lines.join('\n');
}

/** Reads a handout back into its chat and plan (from the data block at its end). */
export function markdownToPlanDocument(markdown: string): Omit<PlanDocument, 'explanation'> {
  const at = markdown.lastIndexOf(DATA_HEADING);
  if (at < 0) throw new PlanDocumentError(`the handout has no "${DATA_HEADING.slice(3)}" section`);
  const block = /(`{3,})json\n([\s\S]*?)\n\1/.exec(markdown.slice(at));
  if (!block) throw new PlanDocumentError('the data section holds no JSON block');
  return jsonToPlanDocument(block[2]!);
}
