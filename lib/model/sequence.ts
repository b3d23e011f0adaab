/**
 * One sequence being generated: the tokens so far, the decoded text, and
 * the rules that end it (EOS ids, stop strings, a token limit), with the
 * streaming of text that is final. Single and batched generation both feed
 * sampled ids through this, so a row of a batch ends exactly as it would
 * alone.
 */
import type { Tokenizer } from "../tokenizer/tokenizer.js";

export type FinishReason = "eos" | "stop" | "length" | "aborted";

export interface SequenceRules {
  /** Token ids that end the sequence (not included in the output). */
  eos: ReadonlySet<number>;
  /** Stop strings (non-empty); the text ends before the first one found. */
  stops: readonly string[];
  /** Most tokens to generate. */
  maxNewTokens: number;
  /** Decodes text for stop strings and streaming; null generates ids only. */
  tokenizer: Tokenizer | null;
  onText?: (delta: string) => void;
  onToken?: (id: number) => void;
}

/** Length of the longest suffix of `text` that begins some stop string. */
export function partialStopSuffix(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > best; k--) {
      if (text.endsWith(s.slice(0, k))) {
        best = k;
        break;
      }
    }
  }
  return best;
}

/** The EOS ids of a generation: the model's, the tokenizer's, and extra ones. */
export function eosIds(configEos: readonly number[], tokenizer: Tokenizer | null, extra: readonly number[] = []): Set<number> {
  const eos = new Set<number>([...configEos, ...extra]);
  const tokEos = tokenizer?.eosTokenId;
  if (tokEos !== null && tokEos !== undefined) eos.add(tokEos);
  return eos;
}

export class Sequence {
  /** Prompt and generated ids (for the repetition penalty). */
  readonly context: number[];
  /** Generated ids, without an EOS that ended the sequence. */
  readonly generated: number[] = [];
  /** Why it ended, or null while it goes on. */
  finishReason: FinishReason | null = null;
  private emitted = 0;
  private decoded = "";
  /** Text is decoded at every token only when stop strings or streaming need it; else once, when read. */
  private readonly eager: boolean;
  private stale = false;

  constructor(
    readonly promptIds: readonly number[],
    private readonly rules: SequenceRules,
  ) {
    this.context = [...promptIds];
    if (rules.maxNewTokens === 0) this.finishReason = "length";
    this.eager = rules.stops.length > 0 || rules.onText !== undefined;
  }

  /** The generated text (cut before a stop string that ended it). */
  get text(): string {
    if (this.stale) {
      this.decoded = this.rules.tokenizer!.decode(this.generated, { skipSpecialTokens: false });
      this.stale = false;
    }
    return this.decoded;
  }

  get done(): boolean {
    return this.finishReason !== null;
  }

  /** Ends the sequence early (for example "aborted"). */
  finish(reason: FinishReason): void {
    this.finishReason ??= reason;
  }

  /** Adds a sampled id; returns true when the sequence has ended. */
  push(id: number): boolean {
    if (this.done) return true;
    const r = this.rules;
    if (r.eos.has(id)) {
      this.finishReason = "eos";
      return true;
    }
    this.generated.push(id);
    this.context.push(id);
    r.onToken?.(id);
    if (r.tokenizer && !this.eager) this.stale = true;
    else if (r.tokenizer) {
      let text = r.tokenizer.decode(this.generated, { skipSpecialTokens: false });
      let stopAt = -1;
      for (const s of r.stops) {
        const at = text.indexOf(s, Math.max(0, this.emitted - s.length));
        if (at >= 0 && (stopAt < 0 || at < stopAt)) stopAt = at;
      }
      if (stopAt >= 0) {
        this.decoded = text.slice(0, stopAt);
        this.finishReason = "stop";
        return true;
      }
      this.decoded = text;
      // Hold back an incomplete UTF-8 sequence and anything that may start a stop string.
      let safe = text.length - partialStopSuffix(text, r.stops);
      while (safe > this.emitted && text.charCodeAt(safe - 1) === 0xfffd) safe--;
      if (safe > this.emitted) {
        r.onText?.(text.slice(this.emitted, safe));
        this.emitted = safe;
      }
    }
    if (this.generated.length >= r.maxNewTokens) this.finishReason = "length";
    return this.done;
  }

  /** Streams what was held back (call once, after the sequence ended). */
  flush(): void {
    const text = this.text;
    if (this.rules.onText && text.length > this.emitted) this.rules.onText(text.slice(this.emitted));
    this.emitted = text.length;
  }
}
