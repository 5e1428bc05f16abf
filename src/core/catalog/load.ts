/** Builds a Catalog from catalog + demonstration JSONL texts, validating every line. */
import { hashString } from '../hash.ts';
import { formatRecordError, parseJsonl, type RecordError } from './jsonl.ts';
import { parseCatalogModel, parseDemonstration } from './records.ts';
import type { Catalog } from './types.ts';

export interface CatalogTexts {
  catalog: { file: string; text: string };
  demonstrations?: { file: string; text: string };
}

export interface CatalogLoadProgress {
  phase: 'catalog' | 'demonstrations';
  linesRead: number;
}

export interface CatalogLoadResult {
  catalog: Catalog;
  errors: RecordError[];
}

export class CatalogError extends Error {
  override name = 'CatalogError';
  constructor(readonly errors: RecordError[]) {
    super(
      `${errors.length} problem${errors.length === 1 ? '' : 's'} in the catalog:\n` +
        errors.slice(0, 10).map(formatRecordError).join('\n') +
        (errors.length > 10 ? `\n... and ${errors.length - 10} more` : ''),
    );
  }
}

/**
 * Parses both files. Bad lines are reported and skipped; a catalog with no valid model at all, or a
 * duplicate model id, is an error. Demonstrations of models the catalog lacks are reported and skipped.
 */
export function loadCatalog(
  texts: CatalogTexts,
  source: string,
  onProgress?: (p: CatalogLoadProgress) => void,
): CatalogLoadResult {
  const models = parseJsonl(texts.catalog.text, parseCatalogModel, {
    file: texts.catalog.file,
    onProgress: (linesRead) => onProgress?.({ phase: 'catalog', linesRead }),
  });
  const errors = [...models.errors];
  const seen = new Set<number>();
  const unique = [];
  for (const [i, m] of models.records.entries()) {
    if (seen.has(m.id)) {
      errors.push({ file: texts.catalog.file, line: models.recordLines[i] ?? 0, field: 'id', message: `duplicate model id ${m.id}` });
      continue;
    }
    seen.add(m.id);
    unique.push(m);
  }
  if (unique.length === 0) {
    throw new CatalogError(
      errors.length > 0 ? errors : [{ file: texts.catalog.file, line: 1, field: '', message: 'the catalog has no models' }],
    );
  }
  let demonstrations: Catalog['demonstrations'] = [];
  if (texts.demonstrations) {
    const file = texts.demonstrations.file;
    const demos = parseJsonl(texts.demonstrations.text, parseDemonstration, {
      file,
      onProgress: (linesRead) => onProgress?.({ phase: 'demonstrations', linesRead }),
    });
    errors.push(...demos.errors);
    demonstrations = demos.records.filter((d, i) => {
      if (seen.has(d.model_id)) return true;
      if (errors.length < 100) {
        errors.push({ file, line: demos.recordLines[i] ?? 0, field: 'model_id', message: `model ${d.model_id} is not in the catalog` });
      }
      return false;
    });
  }
  const version = hashString(texts.catalog.text + '\u0000' + (texts.demonstrations?.text ?? ''));
  return { catalog: { source, version, models: unique, demonstrations }, errors };
}
