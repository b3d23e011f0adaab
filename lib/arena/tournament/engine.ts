/**
 * Plays battles: gets both answers (from the run's journal, the content
 * cache, or the contestant), the judge's verdicts in the orders it needs
 * (journal, cache, or the judge), decides the battles and journals every
 * record as it arrives. Work already in the journal is never redone, so a
 * resumed run repeats nothing; identical in-flight requests are shared.
 *
 * Durability without waiting at every step: the journal has one writer that
 * writes records in append order and syncs the whole file, so once a record
 * is durable every record appended before it is too. Answers and judgments
 * are therefore appended without waiting, and a battle counts as played only
 * when its own (later) records are durable, which covers the answers and
 * judgments it rests on. A journal failure is sticky: every later append
 * fails, so the run stops instead of acknowledging anything.
 */
import { Random } from "../../util/random.js";
import type { AnswerRecord, BattleErrorRecord, BattleRecord, JudgmentRecord, SuitePrompt } from "../types.js";
import type { Contestant } from "../contestants/types.js";
import { mergeParams, type GenerationParams } from "../contestants/params.js";
import { isEnsemble, type Judge, type JudgePlan } from "../judges/types.js";
import type { RunStore } from "../store/run-store.js";
import type { ContentCache } from "../store/cache.js";
import type { JournalEntry } from "../store/journal.js";
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

export class Engine {
  readonly counts = { answers: zero(), judgments: zero(), battles: zero(), specs: 0 };
  private readonly answerWork = new Map<string, Promise<AnswerRecord>>();
  private readonly judgmentWork = new Map<string, Promise<JudgmentRecord>>();
  private readonly orderRng: Random;

  constructor(private readonly ctx: EngineContext) {
    this.orderRng = new Random(ctx.seed).fork("orders");
  }

  private readonly identities = new Map<object, string>();
  private readonly promptHashes = new Map<string, string>();

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

  /** Latest unawaited append: a battle without records of its own waits on it (see the module comment). */
  private lastAppend: Promise<void> = Promise.resolve();

  private record_(entries: JournalEntry[]): void {
    const p = this.ctx.store.append(entries);
    // Failures surface through the next awaited append (the journal's failure is sticky).
    p.catch(() => undefined);
    this.lastAppend = p;
  }

  private aborted(): boolean {
    return this.ctx.signal?.aborted ?? false;
  }

  /** The answer of `model` to `prompt`: journal, cache, or a new call (its failure becomes an error record). */
  answer(model: string, prompt: SuitePrompt): Promise<AnswerRecord> {
    const id = shortId({ answer: model, prompt: prompt.id });
    const have = this.ctx.store.index.answers.get(id);
    if (have && !(have.error !== undefined && this.ctx.retryErrors)) {
      if (!this.answerWork.has(id)) {
        this.counts.answers.recorded++;
        this.answerWork.set(id, Promise.resolve(have));
      }
      return this.answerWork.get(id)!;
    }
    let work = this.answerWork.get(id);
    if (!work) {
      work = this.makeAnswer(id, model, prompt);
      this.answerWork.set(id, work);
    }
    return work;
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
      try {
        const r = await c.generate({ prompt, messages: prompt.messages, params, signal: this.ctx.signal });
        if (typeof r?.text !== "string") throw new Error(`contestant ${model} returned no text`);
        rec = { ...base, text: r.text, tokens: r.tokens, latency_ms: r.latency_ms, attempts: r.attempts, retry_errors: r.retry_errors };
        if (c.cacheable) this.ctx.cache?.putAnswer(key, { text: r.text, tokens: r.tokens });
        this.counts.answers.new++;
      } catch (e) {
        if (this.aborted()) throw this.ctx.signal?.reason ?? e;
        const ex = e as { attempts?: number; errors?: string[] };
        rec = { ...base, error: message(e), attempts: ex.attempts, retry_errors: ex.errors?.length ? ex.errors : undefined };
        this.counts.answers.errors++;
      }
    }
    this.record_([{ type: "answer", ...rec }]);
    return rec;
  }

  /** One judge's judgment of (first, second), shown in that order. */
  judgment(judge: Judge, prompt: SuitePrompt, first: AnswerRecord, second: AnswerRecord): Promise<JudgmentRecord> {
    const id = shortId({ judge: judge.id, prompt: prompt.id, first: first.model, second: second.model });
    const have = this.ctx.store.index.judgments.get(id);
    if (have && !(have.error !== undefined && this.ctx.retryErrors)) {
      if (!this.judgmentWork.has(id)) {
        this.counts.judgments.recorded++;
        this.judgmentWork.set(id, Promise.resolve(have));
      }
      return this.judgmentWork.get(id)!;
    }
    let work = this.judgmentWork.get(id);
    if (!work) {
      work = this.makeJudgment(id, judge, prompt, first, second);
      this.judgmentWork.set(id, work);
    }
    return work;
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
      try {
        const r = await judge.judge({ prompt, first: first.text!, second: second.text!, signal: this.ctx.signal });
        rec = { ...base, verdict: r.verdict, strength: r.strength, scores: r.scores, reason: r.reason, attempts: r.attempts, retry_errors: r.retry_errors, reference_guided: r.reference_guided };
        if (judge.cacheable) {
          this.ctx.cache?.putVerdict(key, { verdict: r.verdict, strength: r.strength, scores: r.scores, reason: r.reason, reference_guided: r.reference_guided });
        }
        this.counts.judgments.new++;
      } catch (e) {
        if (this.aborted()) throw this.ctx.signal?.reason ?? e;
        const ex = e as { attempts?: number; errors?: string[] };
        rec = { ...base, error: message(e), attempts: ex.attempts, retry_errors: ex.errors?.length ? ex.errors : undefined };
        this.counts.judgments.errors++;
      }
    }
    this.record_([{ type: "judgment", ...rec }]);
    return rec;
  }

  /** One member judge's decision on the pair, judging the orders it needs. */
  private async judgeDecision(judge: Judge, spec: BattleSpec, prompt: SuitePrompt, ra: AnswerRecord, rb: AnswerRecord): Promise<Decision> {
    let orders: [AnswerRecord, AnswerRecord][];
    if (judge.orders === "both") orders = [[ra, rb], [rb, ra]];
    else {
      // One order, drawn from the seed per (prompt, pair, judge): the same in every session.
      const flip = this.orderRng.fork(`${spec.prompt_id}\u0000${pairKey(spec.model_a, spec.model_b)}\u0000${judge.id}`).int(2) === 1;
      orders = [flip ? [rb, ra] : [ra, rb]];
    }
    const js = await Promise.all(orders.map(([f, s]) => this.judgment(judge, prompt, f, s)));
    const oj: OrderJudgment[] = js.map((j) => ({ first: j.first, second: j.second, verdict: j.verdict, strength: j.strength, error: j.error }));
    return decide(spec.model_a, spec.model_b, judge, oj);
  }

  /** Plays one scheduled battle to its records; returns the scores schedules plan with. */
  async play(spec: BattleSpec): Promise<PlayedBattle> {
    const prompt = this.ctx.prompts.get(spec.prompt_id)!;
    const [ra, rb] = await Promise.all([this.answer(spec.model_a, prompt), this.answer(spec.model_b, prompt)]);
    const plan = this.ctx.plan;
    const all = isEnsemble(plan) ? plan.members : [plan];
    const members = all.filter((m) => m.applies?.(prompt) ?? true);
    if (members.length === 0) {
      const why = `no judge applies to prompt '${prompt.id}' (${all.map((m) => m.id).join(", ")})`;
      return this.record(spec, prompt, [{ judge: plan.id, d: { error: why } }]);
    }
    let decisions: { judge: string; d: Decision }[];
    if (ra.error !== undefined || rb.error !== undefined) {
      const why = [ra, rb].filter((r) => r.error !== undefined).map((r) => `answer of ${r.model} failed: ${r.error}`).join("; ");
      const ids = isEnsemble(plan) && plan.combine === "majority" ? [plan.id] : members.map((m) => m.id);
      decisions = ids.map((judge) => ({ judge, d: { error: why } }));
    } else {
      const ds = await Promise.all(members.map((m) => this.judgeDecision(m, spec, prompt, ra, rb)));
      decisions =
        isEnsemble(plan) && plan.combine === "majority"
          ? [{ judge: plan.id, d: majority(spec.model_a, spec.model_b, plan, ds) }]
          : members.map((m, i) => ({ judge: m.id, d: ds[i] }));
    }
    return this.record(spec, prompt, decisions);
  }

  /** Journals a battle's decisions (only records not already there) and returns its scores. */
  private async record(spec: BattleSpec, prompt: SuitePrompt, decisions: { judge: string; d: Decision }[]): Promise<PlayedBattle> {
    const entries: JournalEntry[] = [];
    const scores: number[] = [];
    const idx = this.ctx.store.index;
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
        const old = idx.battleErrors.get(rec.id);
        if (!old || old.error !== rec.error) entries.push({ type: "battle_error", ...rec });
        this.counts.battles.errors++;
        continue;
      }
      for (const g of d.games) {
        const id = shortId({ prompt: spec.prompt_id, model_a: g.model_a, model_b: g.model_b, judge, game: g.game });
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
        if (idx.battles.has(id)) this.counts.battles.recorded++;
        else {
          entries.push({ type: "battle", ...rec });
          this.counts.battles.new++;
        }
        scores.push(g.model_a === spec.model_a ? gameScore(g) : -gameScore(g));
      }
    }
    // Durable battle records mean durable answers and judgments before them; a battle whose
    // records were all there already waits for the latest append instead.
    if (entries.length) await this.ctx.store.append(entries);
    else await this.lastAppend;
    this.counts.specs++;
    return { spec, scores };
  }
}
