/**
 * A demo variant as an arena contestant: the arena's `local` contestant on
 * the base model folder, quantized as the variant was trained (float32, or
 * 4-bit NF4 for QLoRA: an adapter learns its correction against the base it
 * trained on), with the variant's PEFT adapter on top. Its prompts in flight
 * are decoded together in batches; one shared queue lets one model decode at
 * a time (two cores run one batch best). Only the identity is the demo's:
 * content hashes instead of folder fingerprints, so a fresh copy of the model
 * or of the cache keeps its answers and its run.
 */
import type { Contestant } from "../arena/contestants/types.js";
import { createLocalContestant } from "../arena/contestants/local.js";
import type { DemoVariant } from "./config.js";

/** Runs tasks one after another (a promise chain). */
export function serialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
}

export interface DemoContestantInput {
  variant: DemoVariant;
  modelDir: string;
  /** folderHash(modelDir): part of the answer cache key. */
  modelHash: string;
  /** The adapter folder and its cache key (LoRA variants). */
  adapter?: { dir: string; key: string };
  /** Shared by every demo contestant: runs one decoding session (a batch of prompts) at a time. */
  queue: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** What decides a variant's answers: the base's bytes, its storage, the adapter's key (which hashes base, data and training). */
export function demoIdentity(input: Omit<DemoContestantInput, "queue" | "modelDir">): Record<string, unknown> {
  return { type: "tslm-demo", v: 1, model: input.modelHash, quantization: input.variant.quantization, adapter: input.adapter?.key ?? null };
}

/** An arena contestant that answers with a demo variant. */
export function demoContestant(input: DemoContestantInput): Contestant {
  const { variant, modelDir, adapter } = input;
  return createLocalContestant(
    { name: variant.name, type: "local", model: modelDir, adapter: adapter?.dir, quantization: variant.quantization },
    { schedule: input.queue, identity: demoIdentity(input) },
  );
}
