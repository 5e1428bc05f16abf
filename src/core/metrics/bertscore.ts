/**
 * BERTScore (Zhang et al., 2020) over contextual token embeddings: each candidate token is matched
 * greedily to its most similar reference token by cosine similarity (precision), each reference token to
 * its most similar candidate token (recall), F1 their harmonic mean. As in the reference implementation
 * (bert_score's greedy_cos_idf), special tokens ([CLS], [SEP]) may be matched but carry weight 0, and the
 * optional idf weight of a token is log((M + 1) / (df + 1)) over the M reference texts. No baseline
 * rescaling: scores are raw cosine averages.
 */
import type { PrecisionRecallF1 } from './prompt.ts';

/** One text as the encoder saw it: a vector per token, special tokens marked. */
export interface TokenEmbeddings {
  ids: number[];
  vectors: Float32Array[];
  special: boolean[];
}

/** Anything that turns text into contextual token embeddings (a BERT-family encoder). */
export interface TokenEmbedder {
  /** Model name for reports. */
  readonly name: string;
  embed(text: string): Promise<TokenEmbeddings>;
}

export type IdfWeight = (tokenId: number) => number;

/** Every token weighs 1: BERTScore without idf. */
export const UNIFORM_WEIGHT: IdfWeight = () => 1;

/** idf over reference texts given as token-id lists: log((M + 1) / (df(t) + 1)); unseen tokens get log(M + 1). */
export function idfFromReferences(references: readonly (readonly number[])[]): IdfWeight {
  const m = references.length;
  const df = new Map<number, number>();
  for (const ids of references) for (const id of new Set(ids)) df.set(id, (df.get(id) ?? 0) + 1);
  return (id) => Math.log((m + 1) / ((df.get(id) ?? 0) + 1));
}

function unit(v: Float32Array): Float64Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  const out = new Float64Array(v.length);
  // A zero vector matches nothing (similarity 0) rather than producing NaN.
  if (norm > 0) for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * BERTScore of one candidate against one reference. When either text has no non-special token (an
 * empty prompt) there is nothing to match and all three scores are 0.
 */
export function bertScore(
  candidate: TokenEmbeddings,
  reference: TokenEmbeddings,
  idf: IdfWeight = UNIFORM_WEIGHT,
): PrecisionRecallF1 {
  const c = candidate.vectors.map(unit);
  const r = reference.vectors.map(unit);
  if (c.length > 0 && r.length > 0 && c[0]!.length !== r[0]!.length) {
    throw new Error(`embedding sizes differ: ${c[0]!.length} vs ${r[0]!.length}`);
  }
  const sim = c.map((ci) => r.map((rj) => dot(ci, rj)));
  const bestForCandidate = sim.map((row) => (row.length === 0 ? 0 : Math.max(...row)));
  const bestForReference = r.map((_, j) => (c.length === 0 ? 0 : Math.max(...sim.map((row) => row[j]!))));
  const weighted = (best: number[], e: TokenEmbeddings) => {
    let num = 0;
    let den = 0;
    best.forEach((b, i) => {
      const w = e.special[i] ? 0 : idf(e.ids[i]!);
      num += w * b;
      den += w;
    });
    return den > 0 ? num / den : 0;
  };
  const hasContent = (e: TokenEmbeddings) => e.special.some((s) => !s);
  if (!hasContent(candidate) || !hasContent(reference)) return { precision: 0, recall: 0, f1: 0 };
  const precision = weighted(bestForCandidate, candidate);
  const recall = weighted(bestForReference, reference);
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/**
 * Scores candidates against references. References (the gold prompts, shared by every engine) are
 * embedded once and kept; candidates are embedded on each call. With `idf`, weights come from the
 * references given here.
 */
export class BertScorer {
  private readonly references = new Map<string, Promise<TokenEmbeddings>>();
  private idf: IdfWeight = UNIFORM_WEIGHT;

  private constructor(
    readonly embedder: TokenEmbedder,
    readonly idfWeighted: boolean,
  ) {}

  static async create(
    embedder: TokenEmbedder,
    references: readonly string[],
    options: { idf?: boolean } = {},
  ): Promise<BertScorer> {
    const scorer = new BertScorer(embedder, options.idf === true);
    const embedded = await Promise.all([...new Set(references)].map((t) => scorer.reference(t)));
    if (scorer.idfWeighted) scorer.idf = idfFromReferences(embedded.map((e) => e.ids));
    return scorer;
  }

  private reference(text: string): Promise<TokenEmbeddings> {
    let e = this.references.get(text);
    if (!e) {
      e = this.embedder.embed(text);
      this.references.set(text, e);
    }
    return e;
  }

  async score(candidate: string, reference: string): Promise<PrecisionRecallF1> {
    const [c, r] = await Promise.all([this.embedder.embed(candidate), this.reference(reference)]);
    return bertScore(c, r, this.idf);
  }
}
