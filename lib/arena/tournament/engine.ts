/**
 * Plays battles: gets both answers (from the run's journal, the content
 * cache, or the contestant), the judge's verdicts in the orders it needs
 * (journal, cache, or the judge), decides the battles and journals every
 * record as it arrives. Work already in the journal is never redone, so a
 * resumed run repeats nothing; identical in-flight requests are shared.
 *
 * Durability without waiting at every step: the journal has one writer that
 * writes records in append order and syncs the whole file, so once a record
 * is durable every record appended before it is too. Every record is
 * therefore queued without waiting (no promise per record), and a battle
 * counts as played once a `sync` after its own records resolves, which
 * covers the answers and judgments it rests on. A journal failure is sticky:
 * every later sync fails, so the run stops instead of acknowledging anything.
 */
import { Random } from "../../util/random.js";
import type { AnswerRecord, BattleErrorRecord, BattleRecord, JudgmentRecord, SuitePrompt } from "../types.js";
import type { Contestant } from "../contestants/types.js";
import { mergeParams, type GenerationParams } from "../contestants/params.js";
import { redactSecrets } from "../contestants/redact.js";
import { isEnsemble, type Judge, type JudgeEnsemble, type JudgePlan } from "../judges/types.js";
import type { RunStore } from "../store/run-store.js";
import type { ContentCache } from "../store/cache.js";
import { contentHash, hashParts, shortId, textHash } from "../store/hash.js";
import { decide, gameScore, majority, type Decision, type OrderJudgment } from "./decide.js";
import { pairKey, type BattleSpec, type PlayedBattle } from "./spec.js";

export interface EngineContext {
  store: RunStore;
  cache?: ContentCache;
  contestants: Map<string, Contestant>;
  plan: JudgePlan;
  prompts: Map<string, SuitePrompt>;
  /** Generation parameters by prompt category (suite < suite category < run); contestants' own go over these. */
  generation: (category: string) => GenerationParams;
  seed: number;
  retryErrors: boolean;
  signal?: AbortSignal;
}

export interface StageCounts {
  /** Made by a call in this session. */
  new: number;
  /** Taken from the cross-run cache. */
  cached: number;
  /** Already in the run's journal (resumed). */
  recorded: number;
  errors: number;
}

const zero = (): StageCounts => ({ new: 0, cached: 0, recorded: 0, errors: 0 });

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An unambiguous map key from parts (each prefixed by its length). */
function joinKey(...parts: string[]): string {
  let k = "";
  for (const p of parts) k += p.length + ":" + p;
  return k;
}

/**
 * The error fields of a record for a failed call (`attempts`/`errors` as
 * ChatError and JudgeError carry them), with any bearer token redacted: a
 * custom contestant's error may quote a header the HTTP client never saw.
 */
function failure(e: unknown): { error: string; attempts?: number; retry_errors?: string[] } {
  const ex = e as { attempts?: number; errors?: string[] };
  return { error: redactSecrets(message(e)), attempts: ex.attempts, retry_errors: ex.errors?.length ? ex.errors.map((x) => redactSecrets(x)) : undefined };
}

export class Engine {
  readonly counts = { answers: zero(), judgments: zero(), battles: zero(), specs: 0 };
  /** This session's answers and judgments by a cheap key: work in flight is shared, finished work never redone. */
  private readonly answerWork = new Map<string, Promise<AnswerRecord>>();
  private readonly judgmentWork = new Map<string, Promise<JudgmentRecord>>();
  private readonly orderRng: Random;
  private readonly identities = new Map<object, string>();
  private readonly promptHashes = new Map<string, string>();
  /** The plan's judges, and whether any of them sits some prompts out. */
  private readonly members: Judge[];
  private readonly selective: boolean;
  private readonly majority: boolean;

  constructor(private readonly ctx: EngineContext) {
    this.orderRng = new Random(ctx.seed).fork("orders");
    this.members = isEnsemble(ctx.plan) ? ctx.plan.members : [ctx.plan];
    this.selective = this.members.some((m) => m.applies !== undefined);
    this.majority = isEnsemble(ctx.plan) && ctx.plan.combine === "majority";
  }

  private identityHash(judge: Judge): string {
    let h = this.identities.get(judge);
    if (h === undefined) this.identities.set(judge, (h = contentHash(judge.identity)));
    return h;
  }

  private promptHash(p: SuitePrompt): string {
    let h = this.promptHashes.get(p.id);
    if (h === undefined) this.promptHashes.set(p.id, (h = contentHash({ category: p.category, messages: p.messages, reference: p.reference })));
    return h;
  }

  private aborted(): boolean {
    return this.ctx.signal?.aborted ?? false;
  }

  /**
   * The record `id` from the journal (counted as recorded; with retryErrors an
   * error there is made again), else `make(id)`; remembered under `key` for the session.
   */
  private start<R extends { error?: string }>(
    work: Map<string, Promise<R>>,
    key: string,
    stage: StageCounts,
    recorded: Map<string, R>,
    id: string,
    make: (id: string) => Promise<R>,
  ): Promise<R> {
    const have = recorded.get(id);
    let w: Promise<R>;
    if (have && !(have.error !== undefined && this.ctx.retryErrors)) {
      stage.recorded++;
      w = Promise.resolve(have);
    } else w = make(id);
    work.set(key, w);
    return w;
  }

  /** The answer of `model` to `prompt`: journal, cache, or a new call (its failure becomes an error record). */
  answer(model: string, prompt: SuitePrompt): Promise<AnswerRecord> {
    const key = joinKey(model, prompt.id);
    return (
      this.answerWork.get(key) ??
      this.start(this.answerWork, key, this.counts.answers, this.ctx.store.index.answers, shortId({ answer: model, prompt: prompt.id }), (id) =>
        this.makeAnswer(id, model, prompt),
      )
    );
  }

  /**
   * Runs one contestant or judge call for a record: its result counts as new;
   * a failure (unless the run is stopping) becomes the record's error and
   * counts as one, never as a verdict.
   */
  private async settle<B extends object, R>(counts: { new: number; errors: number }, base: B, call: () => Promise<R>): Promise<R | (B & ReturnType<typeof failure>)> {
    try {
      const r = await call();
      counts.new++;
      return r;
    } catch (e) {
      if (this.aborted()) throw this.ctx.signal?.reason ?? e;
      counts.errors++;
      return { ...base, ...failure(e) };
    }
  }

  private async makeAnswer(id: string, model: string, prompt: SuitePrompt): Promise<AnswerRecord> {
    const c = this.ctx.contestants.get(model)!;
    const params = mergeParams(this.ctx.generation(prompt.category), c.params);
    if (params.seed === undefined) params.seed = this.ctx.seed;
    const key = contentHash({ answer: c.identity, messages: prompt.messages, params });
    const base = { id, prompt_id: prompt.id, model, key };
    let rec: AnswerRecord;
    const hit = c.cacheable ? this.ctx.cache?.getAnswer(key) : undefined;
    if (hit) {
      rec = { ...base, text: hit.text, tokens: hit.tokens, cached: true };
      this.counts.answers.cached++;
    } else {
      rec = await this.settle(this.counts.answers, base, async () => {
        const r = await c.generate({ prompt, messages: prompt.messages, params, signal: this.ctx.signal });
        if (typeof r?.text !== "string") throw new Error(`contestant ${model} returned no text`);
        if (c.cacheable) this.ctx.cache?.putAnswer(key, { text: r.text, tokens: r.tokens });
        return { ...base, text: r.text, tokens: r.tokens, latency_ms: r.latency_ms, attempts: r.attempts, retry_errors: r.retry_errors };
      });
    }
    this.ctx.store.record("answer", rec);
    return rec;
  }

  /** One judge's judgment of (first, second), shown in that order. */
  judgment(judge: Judge, prompt: SuitePrompt, first: AnswerRecord, second: AnswerRecord): Promise<JudgmentRecord> {
    const key = joinKey(judge.id, prompt.id, first.model, second.model);
    return (
      this.judgmentWork.get(key) ??
      this.start(
        this.judgmentWork,
        key,
        this.counts.judgments,
        this.ctx.store.index.judgments,
        shortId({ judge: judge.id, prompt: prompt.id, first: first.model, second: second.model }),
        (id) => this.makeJudgment(id, judge, prompt, first, second),
      )
    );
  }

  private async makeJudgment(id: string, judge: Judge, prompt: SuitePrompt, first: AnswerRecord, second: AnswerRecord): Promise<JudgmentRecord> {
    // Judge identity + prompt (category, messages, reference) + both answer texts in order.
    const key = hashParts("judgment/1", this.identityHash(judge), this.promptHash(prompt), textHash(first.text!), textHash(second.text!));
    const base = { id, prompt_id: prompt.id, judge: judge.id, first: first.model, second: second.model, key };
    let rec: JudgmentRecord;
    const hit = judge.cacheable ? this.ctx.cache?.getVerdict(key) : undefined;
    if (hit) {
      rec = { ...base, ...(hit as Partial<JudgmentRecord>), cached: true };
      this.counts.judgments.cached++;
    } else {
      rec = await this.settle(this.counts.judgments, base, async () => {
        const r = await judge.judge({ prompt, first: first.text!, second: second.text!, signal: this.ctx.signal });
        // One literal (not a spread of `base`): this runs for every judge call.
        const made: JudgmentRecord = {
          id,
          prompt_id: prompt.id,
          judge: judge.id,
          first: first.model,
          second: second.model,
          key,
          verdict: r.verdict,
          strength: r.strength,
          scores: r.scores,
          reason: r.reason,
          attempts: r.attempts,
          retry_errors: r.retry_errors,
          reference_guided: r.reference_guided,
        };
        if (judge.cacheable) {
          this.ctx.cache?.putVerdict(key, { verdict: r.verdict, strength: r.strength, scores: r.scores, reason: r.reason, reference_guided: r.reference_guided });
        }
        return made;
      });
    }
    this.ctx.store.record("judgment", rec);
    return rec;
  }

  /** One member judge's decision on the pair, judging the orders it needs. */
  private async judgeDecision(judge: Judge, spec: BattleSpec, prompt: SuitePrompt, ra: AnswerRecord, rb: AnswerRecord): Promise<Decision> {
    let js: OrderJudgment[];
    if (judge.orders === "both") {
      js = await Promise.all([this.judgment(judge, prompt, ra, rb), this.judgment(judge, prompt, rb, ra)]);
    } else {
      // One order, drawn from the seed per (prompt, pair, judge): the same in every session.
      const flip = this.orderRng.fork(`${spec.prompt_id}\u0000${pairKey(spec.model_a, spec.model_b)}\u0000${judge.id}`).int(2) === 1;
      js = [await (flip ? this.judgment(judge, prompt, rb, ra) : this.judgment(judge, prompt, ra, rb))];
    }
    return decide(spec.model_a, spec.model_b, judge, js);
  }

  /** Plays one scheduled battle to its records; returns the scores schedules plan with. */
  async play(spec: BattleSpec): Promise<PlayedBattle> {
    const prompt = this.ctx.prompts.get(spec.prompt_id)!;
    const [ra, rb] = await Promise.all([this.answer(spec.model_a, prompt), this.answer(spec.model_b, prompt)]);
    const plan = this.ctx.plan;
    const members = this.selective ? this.members.filter((m) => m.applies?.(prompt) ?? true) : this.members;
    if (members.length === 0) {
      const why = `no judge applies to prompt '${prompt.id}' (${this.members.map((m) => m.id).join(", ")})`;
      return this.record(spec, prompt, [{ judge: plan.id, d: { error: why } }]);
    }
    let decisions: { judge: string; d: Decision }[];
    if (ra.error !== undefined || rb.error !== undefined) {
      const why = [ra, rb].filter((r) => r.error !== undefined).map((r) => `answer of ${r.model} failed: ${r.error}`).join("; ");
      const ids = this.majority ? [plan.id] : members.map((m) => m.id);
      decisions = ids.map((judge) => ({ judge, d: { error: why } }));
    } else if (members.length === 1 && !this.majority) {
      decisions = [{ judge: members[0].id, d: await this.judgeDecision(members[0], spec, prompt, ra, rb) }];
    } else {
      const ds = await Promise.all(members.map((m) => this.judgeDecision(m, spec, prompt, ra, rb)));
      decisions = this.majority ? [{ judge: plan.id, d: majority(spec.model_a, spec.model_b, plan as JudgeEnsemble, ds) }] : members.map((m, i) => ({ judge: m.id, d: ds[i] }));
    }
    return this.record(spec, prompt, decisions);
  }

  /**
   * Journals a battle's decisions (only records not already there) and returns
   * its scores once they are durable: durable battle records mean durable
   * answers and judgments before them (see the module comment).
   */
  private async record(spec: BattleSpec, prompt: SuitePrompt, decisions: { judge: string; d: Decision }[]): Promise<PlayedBattle> {
    const scores: number[] = [];
    const store = this.ctx.store;
    for (const { judge, d } of decisions) {
      if ("error" in d) {
        const rec: BattleErrorRecord = {
          id: shortId({ battle_error: judge, prompt: spec.prompt_id, pair: pairKey(spec.model_a, spec.model_b) }),
          index: spec.index,
          prompt_id: spec.prompt_id,
          model_a: spec.model_a,
          model_b: spec.model_b,
          judge,
          error: d.error,
        };
        const old = store.index.battleErrors.get(rec.id);
        if (!old || old.error !== rec.error) store.record("battle_error", rec);
        this.counts.battles.errors++;
        continue;
      }
      for (const g of d.games) {
        const id = shortId({ prompt: spec.prompt_id, model_a: g.model_a, model_b: g.model_b, judge, game: g.game });
        if (store.index.battles.has(id)) this.counts.battles.recorded++;
        else {
          const rec: BattleRecord = {
            id,
            model_a: g.model_a,
            model_b: g.model_b,
            winner: g.winner,
            prompt_id: spec.prompt_id,
            category: prompt.category,
            judge,
            index: spec.index,
            game: g.game,
          };
          store.record("battle", rec);
          this.counts.battles.new++;
        }
        scores.push(g.model_a === spec.model_a ? gameScore(g) : -gameScore(g));
      }
    }
    await store.sync();
    this.counts.specs++;
    return { spec, scores };
  }
}
