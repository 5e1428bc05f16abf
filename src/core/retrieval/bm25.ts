/**
 * Okapi BM25 over pre-tokenised documents with an inverted index. Built once per catalog; a query
 * touches only the postings of its own terms, so scoring 40k demonstrations takes a millisecond or so.
 */
import { decodeStrings, encodeStrings, type StringTable } from '../snapshot/columns.ts';

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
  private readonly postings = new Map<string, { docs: Int32Array; tfs: Float32Array }>();
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
    for (const [term, list] of lists) {
      this.postings.set(term, { docs: Int32Array.from(list.docs), tfs: Float32Array.from(list.tfs) });
    }
  }

  snapshot(): Bm25Snapshot {
    const terms = [...this.postings.keys()];
    const offsets = new Uint32Array(terms.length + 1);
    terms.forEach((t, i) => (offsets[i + 1] = offsets[i]! + this.postings.get(t)!.docs.length));
    const total = offsets[terms.length]!;
    const docs = new Int32Array(total);
    const tfs = new Float32Array(total);
    terms.forEach((t, i) => {
      const list = this.postings.get(t)!;
      docs.set(list.docs, offsets[i]!);
      tfs.set(list.tfs, offsets[i]!);
    });
    const narrowDocs = this.size <= 0x10000 ? Uint16Array.from(docs) : docs;
    const narrowTfs = tfs.every((tf) => Number.isInteger(tf) && tf <= 0xffff) ? Uint16Array.from(tfs) : tfs;
    return {
      params: { ...this.params },
      size: this.size,
      avgLength: this.avgLength,
      docLength: this.docLength,
      terms: encodeStrings(terms),
      offsets,
      docs: narrowDocs,
      tfs: narrowTfs,
    };
  }

  /** The index a snapshot was taken of, without tokenising or counting anything again. */
  static fromSnapshot(s: Bm25Snapshot): Bm25Index {
    const postings = new Map<string, { docs: Int32Array; tfs: Float32Array }>();
    const docs = s.docs instanceof Int32Array ? s.docs : Int32Array.from(s.docs);
    const tfs = s.tfs instanceof Float32Array ? s.tfs : Float32Array.from(s.tfs);
    decodeStrings(s.terms).forEach((term, i) => {
      const from = s.offsets[i]!;
      const to = s.offsets[i + 1]!;
      postings.set(term, { docs: docs.subarray(from, to), tfs: tfs.subarray(from, to) });
    });
    const index = Object.create(Bm25Index.prototype) as Bm25Index;
    return Object.assign(index, {
      postings,
      docLength: s.docLength,
      avgLength: s.avgLength,
      size: s.size,
      params: s.params,
    });
  }

  /** Number of documents containing the term. */
  documentFrequency(term: string): number {
    return this.postings.get(term)?.docs.length ?? 0;
  }

  /** BM25 idf, floored at a small positive value so very common terms never subtract. */
  idf(term: string): number {
    const n = this.documentFrequency(term);
    return Math.max(0.01, Math.log(1 + (this.size - n + 0.5) / (n + 0.5)));
  }

  /**
   * Scores every document sharing a term with the query into `out` (length = size), adding
   * `weight` x BM25. Query terms may carry their own weights (repeats add up).
   */
  accumulate(query: ReadonlyMap<string, number>, out: Float32Array, weight = 1): void {
    const { k1, b } = this.params;
    for (const [term, qw] of query) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = this.idf(term) * qw * weight;
      const { docs, tfs } = list;
      for (let i = 0; i < docs.length; i++) {
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
    for (const [term, qw] of query) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = this.idf(term) * qw;
      for (const doc of list.docs) out[doc]! += idf;
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
