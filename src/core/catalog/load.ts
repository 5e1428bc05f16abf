/** Builds a Catalog from catalog + demonstration JSONL texts, validating every line. */
import { hashString } from '../hash.ts';
import {
  JsonlFormatError,
  formatRecordError,
  parseJsonl,
  type ParseOptions,
  type ParseResult,
  type RecordError,
} from './jsonl.ts';
import type { JsonObject } from '../validate.ts';
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

/** parseJsonl, with a file that is not JSONL at all refused as a whole (its one message says what was expected). */
function parseFile<T>(text: string, parseRecord: (o: JsonObject) => T, opts: ParseOptions): ParseResult<T> {
  try {
    return parseJsonl(text, parseRecord, opts);
  } catch (e) {
    if (e instanceof JsonlFormatError)
      throw new CatalogError([{ file: e.file, line: 1, field: '', message: e.message }]);
    throw e;
  }
}

/**
 * Parses both files. Bad lines are reported and skipped; a catalog with no valid model at all, or a
 * duplicate model id, is an error. Demonstrations of models the catalog lacks, or repeating an earlier
 * demonstration's image_id, are reported and skipped.
 */
export function loadCatalog(
  texts: CatalogTexts,
  source: string,
  onProgress?: (p: CatalogLoadProgress) => void,
): CatalogLoadResult {
  const models = parseFile(texts.catalog.text, parseCatalogModel, {
    file: texts.catalog.file,
    onProgress: (linesRead) => onProgress?.({ phase: 'catalog', linesRead }),
  });
  const errors = [...models.errors];
  const seen = new Set<number>();
  const unique = [];
  for (const [i, m] of models.records.entries()) {
    if (seen.has(m.id)) {
      errors.push({
        file: texts.catalog.file,
        line: models.recordLines[i] ?? 0,
        field: 'id',
        message: `duplicate model id ${m.id}`,
      });
      continue;
    }
    seen.add(m.id);
    unique.push(m);
  }
  if (unique.length === 0) {
    throw new CatalogError(
      errors.length > 0
        ? errors
        : [{ file: texts.catalog.file, line: 1, field: '', message: 'the catalog has no models' }],
    );
  }
  let demonstrations: Catalog['demonstrations'] = [];
  if (texts.demonstrations) {
    const file = texts.demonstrations.file;
    const demos = parseFile(texts.demonstrations.text, parseDemonstration, {
      file,
      onProgress: (linesRead) => onProgress?.({ phase: 'demonstrations', linesRead }),
    });
    for (const e of demos.errors) errors.push(e);
    // The UI and the evidence key demonstrations by image_id: a repeated one is a bad line like any other.
    const imageLine = new Map<number, number>();
    demonstrations = demos.records.filter((d, i) => {
      const line = demos.recordLines[i] ?? 0;
      const report = (field: string, message: string) => {
        if (errors.length < 100) errors.push({ file, line, field, message });
      };
      if (!seen.has(d.model_id)) {
        report('model_id', `model ${d.model_id} is not in the catalog`);
        return false;
      }
      const first = imageLine.get(d.image_id);
      if (first !== undefined) {
        report('image_id', `duplicate image_id ${d.image_id} (first on line ${first}); this line was skipped`);
        return false;
      }
      imageLine.set(d.image_id, line);
      return true;
    });
  }
  const version = hashString(texts.catalog.text + '\u0000' + (texts.demonstrations?.text ?? ''));
  return { catalog: { source, version, models: unique, demonstrations }, errors };
}
