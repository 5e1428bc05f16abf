/**
 * Okapi BM25 over pre-tokenised documents with an inverted index. Built once per catalog; a query
 * touches only the postings of its own terms, so scoring 40k demonstrations takes a millisecond or so.
 */
import { encodeStrings, stringTableText, type StringTable } from '../snapshot/columns.ts';

export interface Bm25Params {
  k1: number;
  b: number;
}

/** A built index as typed arrays (see src/core/snapshot/columns.ts): what the fast start stores. */
export interface Bm25Snapshot {
  params: Bm25Params;
  size: number;
  avgLength: number;
  docLength: Float32Array;
  /** The vocabulary in sorted order (JavaScript's string order), so that a term is found by binary search. */
  terms: StringTable;
  /** Postings of term i are docs/tfs[offsets[i], offsets[i + 1]). */
  offsets: Uint32Array;
  /** 16-bit when every document number and term count fits (half the bytes to store and read). */
  docs: Int32Array | Uint16Array;
  tfs: Float32Array | Uint16Array;
}

export interface ScoredDoc {
  doc: number;
  score: number;
}

export class Bm25Index {
  /**
   * The vocabulary, sorted, as one string with the end of each term (`termEnds`): a term's number is
   * found by binary search, so a snapshot restores without building a map of every term. Term i's
   * documents and counts are docs/tfs[offsets[i], offsets[i + 1]), one flat array each (16-bit where
   * every document number and count fits), kept as stored.
   */
  private readonly termText: string;
  private readonly termEnds: Uint32Array;
  private readonly offsets: Uint32Array;
  private readonly docs: Int32Array | Uint16Array;
  private readonly tfs: Float32Array | Uint16Array;
  private readonly docLength: Float32Array;
  private readonly avgLength: number;
  readonly size: number;

  /** `docs[i]` is document i as a list of terms (repeats count as term frequency). */
  constructor(
    docs: readonly (readonly string[])[],
    private readonly params: Bm25Params = { k1: 1.2, b: 0.75 },
  ) {
    this.size = docs.length;
    this.docLength = new Float32Array(docs.length);
    const lists = new Map<string, { docs: number[]; tfs: number[] }>();
    let total = 0;
    docs.forEach((terms, doc) => {
      this.docLength[doc] = terms.length;
      total += terms.length;
      const counts = new Map<string, number>();
      for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const [term, tf] of counts) {
        let list = lists.get(term);
        if (!list) lists.set(term, (list = { docs: [], tfs: [] }));
        list.docs.push(doc);
        list.tfs.push(tf);
      }
    });
    this.avgLength = docs.length > 0 ? Math.max(1, total / docs.length) : 1;
    const terms = [...lists.keys()].sort();
    this.termText = terms.join('');
    this.termEnds = new Uint32Array(terms.length);
    this.offsets = new Uint32Array(terms.length + 1);
    let end = 0;
    let postings = 0;
    let maxTf = 0;
    terms.forEach((term, i) => {
      end += term.length;
      this.termEnds[i] = end;
      const list = lists.get(term)!;
      postings += list.docs.length;
      this.offsets[i + 1] = postings;
      for (const tf of list.tfs) maxTf = Math.max(maxTf, tf);
    });
    this.docs = this.size <= 0x10000 ? new Uint16Array(postings) : new Int32Array(postings);
    this.tfs = maxTf <= 0xffff ? new Uint16Array(postings) : new Float32Array(postings);
    terms.forEach((term, i) => {
      const list = lists.get(term)!;
      this.docs.set(list.docs, this.offsets[i]!);
      this.tfs.set(list.tfs, this.offsets[i]!);
    });
  }

  snapshot(): Bm25Snapshot {
    const terms = new Array<string>(this.termEnds.length);
    for (let i = 0; i < terms.length; i++)
      terms[i] = this.termText.slice(i === 0 ? 0 : this.termEnds[i - 1]!, this.termEnds[i]!);
    return {
      params: { ...this.params },
      size: this.size,
      avgLength: this.avgLength,
      docLength: this.docLength,
      terms: encodeStrings(terms),
      offsets: this.offsets,
      docs: this.docs,
      tfs: this.tfs,
    };
  }

  /** The index a snapshot was taken of, without tokenising, counting or even listing its terms again. */
  static fromSnapshot(s: Bm25Snapshot): Bm25Index {
    const index = Object.create(Bm25Index.prototype) as Bm25Index;
    return Object.assign(index, {
      termText: stringTableText(s.terms),
      termEnds: s.terms.ends,
      offsets: s.offsets,
      docs: s.docs,
      tfs: s.tfs,
      docLength: s.docLength,
      avgLength: s.avgLength,
      size: s.size,
      params: s.params,
    });
  }

  /** The term's number, or -1 when no document has it: a binary search of the sorted vocabulary. */
  private termId(term: string): number {
    const { termText: text, termEnds: ends } = this;
    let lo = 0;
    let hi = ends.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const start = mid === 0 ? 0 : ends[mid - 1]!;
      const length = ends[mid]! - start;
      // JavaScript's string order (UTF-16 code units, a prefix first), as the vocabulary was sorted.
      let order = 0;
      for (let i = 0, n = Math.min(term.length, length); i < n && order === 0; i++)
        order = term.charCodeAt(i) - text.charCodeAt(start + i);
      if (order === 0) order = term.length - length;
      if (order === 0) return mid;
      if (order < 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return -1;
  }

  /** Number of documents containing the term. */
  documentFrequency(term: string): number {
    const id = this.termId(term);
    return id < 0 ? 0 : this.offsets[id + 1]! - this.offsets[id]!;
  }

  /** BM25 idf, floored at a small positive value so very common terms never subtract. */
  idf(term: string): number {
    return this.idfOf(this.documentFrequency(term));
  }

  /** The idf of a term found in `n` documents. */
  private idfOf(n: number): number {
    return Math.max(0.01, Math.log(1 + (this.size - n + 0.5) / (n + 0.5)));
  }

  /**
   * Scores every document sharing a term with the query into `out` (length = size), adding
   * `weight` x BM25. Query terms may carry their own weights (repeats add up).
   */
  accumulate(query: ReadonlyMap<string, number>, out: Float32Array, weight = 1): void {
    const { k1, b } = this.params;
    const { docs, tfs, offsets } = this;
    for (const [term, qw] of query) {
      const id = this.termId(term);
      if (id < 0) continue;
      const idf = this.idfOf(offsets[id + 1]! - offsets[id]!) * qw * weight;
      for (let i = offsets[id]!, end = offsets[id + 1]!; i < end; i++) {
        const doc = docs[i]!;
        const tf = tfs[i]!;
        const norm = tf + k1 * (1 - b + (b * this.docLength[doc]!) / this.avgLength);
        out[doc]! += (idf * tf * (k1 + 1)) / norm;
      }
    }
  }

  /**
   * Adds, for every document containing a query term, that term's idf x query weight into `out`: how
   * much of the query's (idf-weighted) vocabulary the document covers, regardless of term frequency.
   */
  accumulateMatchedIdf(query: ReadonlyMap<string, number>, out: Float32Array): void {
    const { docs, offsets } = this;
    for (const [term, qw] of query) {
      const id = this.termId(term);
      if (id < 0) continue;
      const idf = this.idfOf(offsets[id + 1]! - offsets[id]!) * qw;
      for (let i = offsets[id]!, end = offsets[id + 1]!; i < end; i++) out[docs[i]!]! += idf;
    }
  }

  /** The top `k` documents for a query, best first. */
  search(query: ReadonlyMap<string, number>, k: number): ScoredDoc[] {
    const scores = new Float32Array(this.size);
    this.accumulate(query, scores);
    return topK(scores, k);
  }
}

/** Indices of the k largest positive values, best first. */
export function topK(scores: ArrayLike<number>, k: number): ScoredDoc[] {
  const best: ScoredDoc[] = [];
  if (k <= 0) return best;
  for (let doc = 0; doc < scores.length; doc++) {
    const score = scores[doc]!;
    if (score <= 0) continue;
    if (best.length < k) {
      best.push({ doc, score });
      if (best.length === k) best.sort((a, b) => b.score - a.score);
    } else if (score > best[k - 1]!.score) {
      let i = k - 1;
      while (i > 0 && best[i - 1]!.score < score) {
        best[i] = best[i - 1]!;
        i--;
      }
      best[i] = { doc, score };
    }
  }
  if (best.length < k) best.sort((a, b) => b.score - a.score);
  return best;
}

/** Counts terms into a weighted query map. */
export function termCounts(terms: readonly string[], weight = 1): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of terms) m.set(t, (m.get(t) ?? 0) + weight);
  return m;
}
