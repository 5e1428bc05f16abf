/** Catalog records in the JSONL format of ChatGenBench-style data (see README: "Catalog format"). */
import type { ModelType, PlannedModel } from '../plan.ts';

export interface CatalogModel {
  id: number;
  name: string;
  type: ModelType;
  tags: string[];
  base_model: string;
  trained_words: string[];
  file: string;
  /** AutoV2 hash (10 hex digits) when known. */
  hash: string | null;
  downloads: number;
  rating: number;
  /** Plain text, untrusted: never rendered as HTML. */
  description: string;
}

export interface DemonstrationArguments {
  sampler: string;
  steps: number;
  cfg_scale: number;
  width: number;
  height: number;
}

export interface Demonstration {
  image_id: number;
  model_id: number;
  prompt: string;
  negative_prompt: string;
  arguments: DemonstrationArguments;
  /** Optional context kept when present in the source. */
  model?: string;
  model_type?: ModelType;
  base_model?: string;
  /** The A1111 checkpoint title the record was made with (for a LoRA record, its base checkpoint). */
  checkpoint?: string;
  /** AutoV2 hash of that checkpoint. */
  checkpoint_hash?: string;
}

export interface Catalog {
  /** A label for where it came from ("starter", a file name, a URL). */
  source: string;
  /** Changes whenever the content changes; part of every plan cache key. */
  version: string;
  models: CatalogModel[];
  demonstrations: Demonstration[];
}

/** The part of a catalog model a generation plan carries. */
export function plannedModelOf(m: CatalogModel): PlannedModel {
  return {
    id: m.id,
    name: m.name,
    type: m.type,
    file: m.file,
    base_model: m.base_model,
    trained_words: m.trained_words,
    hash: m.hash,
  };
}
