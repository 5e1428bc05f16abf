/**
 * Line-by-line JSONL validation with errors that name the file, the line and the field. Parsing
 * never stops at the first bad line: every error is collected (up to a limit) and good lines are kept,
 * so one broken record does not lose an import. Records are checked with ../validate.ts.
 */
import { describeValue, FieldError, isPlainObject, type JsonObject } from '../validate.ts';

export interface RecordError {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  /** Dotted path of the offending field, or "" for the line itself. */
  field: string;
  message: string;
}

export function formatRecordError(e: RecordError): string {
  return `${e.file}:${e.line}${e.field ? ` field "${e.field}"` : ''}: ${e.message}`;
}

export interface ParseResult<T> {
  records: T[];
  /** 1-based line number of each record, parallel to `records`. */
  recordLines: number[];
  errors: RecordError[];
  /** Lines read, blank lines included. */
  lines: number;
}

export interface ParseOptions {
  file: string;
  /** Stop collecting errors past this many (parsing goes on). */
  maxErrors?: number;
  /** Called every `progressEvery` lines with the number of lines read so far. */
  onProgress?: (linesRead: number) => void;
  progressEvery?: number;
}

/** A file that is not JSONL as a whole (another encoding or JSON layout): nothing in it is read. */
export class JsonlFormatError extends Error {
  override name = 'JsonlFormatError';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`this is not JSONL: ${problem}`);
  }
}

/**
 * What is wrong with a text that is not JSONL as a whole, or null. Checked before reading lines, so
 * such a file gives one message saying what was expected instead of a JSON error per line.
 */
export function jsonlFormatProblem(text: string): string | null {
  const head = text.slice(0, 4096);
  // UTF-16 read as UTF-8: its byte order mark becomes two replacement characters, ASCII gets NULs between.
  if (head.startsWith('\ufffd\ufffd') || head.includes('\u0000')) {
    return 'the file is UTF-16 text; expected UTF-8 (save it as UTF-8 and import it again)';
  }
  const body = head.replace(/^\ufeff/, '').trimStart();
  if (body.startsWith('[')) {
    return "the file is one JSON array; expected one JSON object per line (convert it with: jq -c '.[]' file.json > file.jsonl)";
  }
  // Pretty-printed: an object opens a line alone and its fields follow indented ('{' then '  "id": 1,').
  const [first = '', second = ''] = body.split(/\r\n|\r|\n/, 2);
  if (first.trim() === '{' && /^\s+"/.test(second)) {
    return 'each JSON object spans several lines (pretty-printed); expected one object per line (convert it with: jq -c . file.json > file.jsonl)';
  }
  return null;
}

/**
 * Parses JSONL text line by line with `parseRecord` validating each object. Bad JSON, non-object
 * lines and field errors become RecordErrors; the rest become records. A text that is not JSONL as a
 * whole throws JsonlFormatError. Lines may end in LF, CRLF or a lone CR (old Mac files).
 */
export function parseJsonl<T>(text: string, parseRecord: (o: JsonObject) => T, opts: ParseOptions): ParseResult<T> {
  const problem = jsonlFormatProblem(text);
  if (problem) throw new JsonlFormatError(opts.file, problem);
  const records: T[] = [];
  const recordLines: number[] = [];
  const errors: RecordError[] = [];
  const maxErrors = opts.maxErrors ?? 100;
  const every = opts.progressEvery ?? 1000;
  // A file with no LF at all ends its lines in CR; in a CRLF file the CR is trimmed off each line.
  const lineEnd = text.includes('\n') || !text.includes('\r') ? '\n' : '\r';
  let lineNo = 0;
  let start = 0;
  // A BOM at the start of a file is not part of the first record.
  if (text.charCodeAt(0) === 0xfeff) start = 1;
  const push = (e: RecordError) => {
    if (errors.length < maxErrors) errors.push(e);
  };
  while (start <= text.length) {
    let end = text.indexOf(lineEnd, start);
    if (end === -1) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (opts.onProgress && lineNo % every === 0) opts.onProgress(lineNo);
    if (line === '') {
      if (end === text.length) break;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      push({ file: opts.file, line: lineNo, field: '', message: `not valid JSON (${(e as Error).message})` });
      continue;
    }
    if (!isPlainObject(value)) {
      push({
        file: opts.file,
        line: lineNo,
        field: '',
        message: `expected a JSON object, got ${describeValue(value)}`,
      });
      continue;
    }
    try {
      records.push(parseRecord(value));
      recordLines.push(lineNo);
    } catch (e) {
      if (e instanceof FieldError) push({ file: opts.file, line: lineNo, field: e.field, message: e.message });
      else throw e;
    }
  }
  opts.onProgress?.(lineNo);
  return { records, recordLines, errors, lines: lineNo };
}
