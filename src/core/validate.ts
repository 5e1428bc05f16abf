/**
 * Validation of untrusted JSON, one approach for every format the app reads (catalog and bench lines,
 * pack and scorer manifests, kiosk configs, plan documents): a problem names the offending field by its
 * path ("arguments.steps", "head.model_ids[2]") and says what was expected. A validator either stops at
 * the first problem (FieldError: a catalog line is skipped as a whole) or collects every problem
 * (Problems: a hand-written manifest is fixed in one pass); each error class formats the list its way.
 *
 * In-house rather than a schema library: the messages are the product here (the tests and the UI quote
 * them), catalog lines are checked 47,000 at a time, and these few readers are shorter than a schema
 * with a custom message on nearly every check.
 */

export type JsonObject = Record<string, unknown>;

/** An object that is neither null nor an array: what a JSON object parses to. */
export function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as a message quotes it: `"abc"`, `a list`, `number 3`, `nothing`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '...' : v}"`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** A problem with one field: its dotted path ("" for the value itself) and what is wrong. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Thrown by a validator that stops at the first problem. */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Runs a nested check, prefixing the parent field to the path of a FieldError it throws. */
export function within<T>(parent: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FieldError) throw new FieldError(`${parent}.${e.field}`, e.message);
    throw e;
  }
}

/** Typed field readers that throw FieldError with the field path. */
export const read = {
  object(o: JsonObject, field: string): JsonObject {
    const v = o[field];
    if (!isPlainObject(v)) throw new FieldError(field, `expected an object, got ${describeValue(v)}`);
    return v;
  },
  string(o: JsonObject, field: string, opts: { optional?: boolean; nonEmpty?: boolean } = {}): string {
    const v = o[field];
    if (v === undefined || v === null) {
      if (opts.optional) return '';
      throw new FieldError(field, 'is missing');
    }
    if (typeof v !== 'string') throw new FieldError(field, `expected a string, got ${describeValue(v)}`);
    if (opts.nonEmpty && v.trim() === '') throw new FieldError(field, 'must not be empty');
    return v;
  },
  number(
    o: JsonObject,
    field: string,
    opts: { optional?: boolean; integer?: boolean; fallback?: number } = {},
  ): number {
    const v = o[field];
    if (v === undefined || v === null) {
      if (opts.optional) return opts.fallback ?? 0;
      throw new FieldError(field, 'is missing');
    }
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n))
      throw new FieldError(field, `expected a number, got ${describeValue(v)}`);
    if (opts.integer && !Number.isInteger(n)) throw new FieldError(field, `expected a whole number, got ${n}`);
    return n;
  },
  stringArray(o: JsonObject, field: string, opts: { optional?: boolean } = {}): string[] {
    const v = o[field];
    if (v === undefined || v === null) {
      if (opts.optional) return [];
      throw new FieldError(field, 'is missing');
    }
    if (!Array.isArray(v)) throw new FieldError(field, `expected a list of strings, got ${describeValue(v)}`);
    return v.map((item, i) => {
      if (typeof item !== 'string')
        throw new FieldError(`${field}[${i}]`, `expected a string, got ${describeValue(item)}`);
      return item;
    });
  },
  oneOf<T extends string>(o: JsonObject, field: string, allowed: readonly T[]): T {
    const v = read.string(o, field);
    if (!(allowed as readonly string[]).includes(v)) {
      throw new FieldError(field, `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}, got "${v}"`);
    }
    return v as T;
  },
};

/** A problem as a config file's messages read: `"head.dim" must be ...` (the field quoted, then what is wrong). */
export const quotedFieldLine = (p: FieldProblem): string => (p.field ? `"${p.field}" ${p.message}` : p.message);

/** The problems of a validator that reports them all at once, in the order found. */
export class Problems {
  readonly list: FieldProblem[] = [];

  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  get count(): number {
    return this.list.length;
  }

  /** The problems as lines, each written by `line`. */
  lines(line: (p: FieldProblem) => string): string[] {
    return this.list.map(line);
  }
}
