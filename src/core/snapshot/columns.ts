/**
 * Compact, structured-clone-friendly encodings of large data: a list of strings as one string plus
 * end offsets, and a list of JSON-like records as typed-array columns. IndexedDB stores typed arrays and
 * a few long strings almost at memcpy speed, whereas tens of thousands of small objects cost a lot to
 * clone in and out; so a catalog saved this way loads in a fraction of the time of parsing its JSONL.
 * The record encoding is generic (it derives its columns from the records), so a field added to the
 * catalog format is kept without touching this file.
 */

/**
 * Strings joined into one and stored as UTF-8 (half the bytes of a two-byte JS string for mostly-ASCII
 * text), with the end offset of each in UTF-16 code units of the decoded text.
 */
export interface StringTable {
  utf8: Uint8Array;
  ends: Uint32Array;
}

export function encodeStrings(strings: readonly string[]): StringTable {
  const ends = new Uint32Array(strings.length);
  let at = 0;
  strings.forEach((s, i) => {
    at += s.length;
    ends[i] = at;
  });
  return { utf8: new TextEncoder().encode(strings.join('')), ends };
}

/** A table's strings joined, as one string (string j ends at `table.ends[j]`). */
export function stringTableText(table: StringTable): string {
  return new TextDecoder().decode(table.utf8);
}

/** A table's strings, read on demand from its decoded text. */
function stringReader(table: StringTable): (j: number) => string {
  const text = stringTableText(table);
  const { ends } = table;
  return (j) => text.slice(j === 0 ? 0 : ends[j - 1]!, ends[j]!);
}

export function decodeStrings(table: StringTable): string[] {
  const read = stringReader(table);
  const out = new Array<string>(table.ends.length);
  for (let i = 0; i < out.length; i++) out[i] = read(i);
  return out;
}

/**
 * One key of the records. `present` (1 where the record has the key) is left out when every record has it.
 * - number: every value a number;
 * - string: strings, or null (`isNull` marks those); a column with many repeats (negative prompts,
 *   sampler and base model names) keeps each distinct string once and `indices` into them;
 * - strings: arrays of strings (`counts` per present record, the strings flattened);
 * - record: plain objects, encoded as a nested table over the present ones;
 * - json: anything else, as JSON text.
 */
export type Column =
  | { kind: 'number'; present?: Uint8Array; values: Float64Array }
  | { kind: 'string'; present?: Uint8Array; isNull?: Uint8Array; indices?: Uint32Array; values: StringTable }
  | { kind: 'strings'; present?: Uint8Array; counts: Uint32Array; values: StringTable }
  | { kind: 'record'; present?: Uint8Array; values: RecordTable }
  | { kind: 'json'; present?: Uint8Array; values: StringTable };

export interface RecordTable {
  length: number;
  keys: string[];
  columns: Column[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonRecord = { [key: string]: Json };

const isPlainRecord = (v: unknown): v is JsonRecord => typeof v === 'object' && v !== null && !Array.isArray(v);

function encodeColumn(values: readonly Json[]): Column {
  if (values.every((v) => typeof v === 'number'))
    return { kind: 'number', values: Float64Array.from(values as number[]) };
  if (values.every((v) => typeof v === 'string' || v === null)) {
    const hasNull = values.some((v) => v === null);
    const strings = values.map((v) => (v === null ? '' : (v as string)));
    const isNull = hasNull ? { isNull: Uint8Array.from(values, (v) => (v === null ? 1 : 0)) } : {};
    const distinct = [...new Set(strings)];
    if (distinct.length * 2 > strings.length) return { kind: 'string', ...isNull, values: encodeStrings(strings) };
    const position = new Map(distinct.map((v, i) => [v, i]));
    return {
      kind: 'string',
      ...isNull,
      indices: Uint32Array.from(strings, (v) => position.get(v)!),
      values: encodeStrings(distinct),
    };
  }
  if (values.every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'))) {
    const arrays = values as string[][];
    return { kind: 'strings', counts: Uint32Array.from(arrays, (a) => a.length), values: encodeStrings(arrays.flat()) };
  }
  if (values.every(isPlainRecord)) return { kind: 'record', values: encodeRecords(values as JsonRecord[]) };
  return { kind: 'json', values: encodeStrings(values.map((v) => JSON.stringify(v))) };
}

/** Encodes records of JSON values (an absent key and an undefined value are the same). */
export function encodeRecords(records: readonly object[]): RecordTable {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    for (const [k, v] of Object.entries(r)) {
      if (v !== undefined && !seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  const columns = keys.map((key): Column => {
    const present = Uint8Array.from(records, (r) => ((r as Record<string, unknown>)[key] !== undefined ? 1 : 0));
    const values = records.filter((_, i) => present[i] === 1).map((r) => (r as JsonRecord)[key]!);
    const column = encodeColumn(values);
    return values.length === records.length ? column : { ...column, present };
  });
  return { length: records.length, keys, columns };
}

/** Each distinct string decoded once; rows share them. */
function dictionaryReader(table: StringTable, indices: Uint32Array): (j: number) => string {
  const distinct = decodeStrings(table);
  return (j) => distinct[indices[j]!]!;
}

/** A reader of the column's j-th present value (no intermediate arrays: catalogs have tens of thousands of rows). */
function columnReader(column: Column): (j: number) => Json {
  switch (column.kind) {
    case 'number': {
      const values = column.values;
      return (j) => values[j]!;
    }
    case 'string': {
      const { isNull, indices } = column;
      const read = indices ? dictionaryReader(column.values, indices) : stringReader(column.values);
      return isNull ? (j) => (isNull[j] === 1 ? null : read(j)) : read;
    }
    case 'strings': {
      const starts = new Uint32Array(column.counts.length + 1);
      column.counts.forEach((n, i) => (starts[i + 1] = starts[i]! + n));
      const read = stringReader(column.values);
      return (j) => {
        const out: string[] = [];
        for (let k = starts[j]!; k < starts[j + 1]!; k++) out.push(read(k));
        return out;
      };
    }
    case 'record': {
      const records = decodeRecords<JsonRecord>(column.values);
      return (j) => records[j]!;
    }
    case 'json': {
      const read = stringReader(column.values);
      return (j) => JSON.parse(read(j)) as Json;
    }
  }
}

export function decodeRecords<T>(table: RecordTable): T[] {
  const { keys, columns, length } = table;
  const readers = columns.map(columnReader);
  // The next present value of each column (columns with `present` skip the records without the key).
  const next = new Uint32Array(keys.length);
  const records: JsonRecord[] = new Array(length);
  // Record by record, each filled in key order: the records share one shape and stay in cache while built.
  for (let i = 0; i < length; i++) {
    const record: JsonRecord = {};
    for (let k = 0; k < keys.length; k++) {
      const present = columns[k]!.present;
      if (present && present[i] !== 1) continue;
      record[keys[k]!] = readers[k]!(next[k]!++);
    }
    records[i] = record;
  }
  return records as T[];
}
