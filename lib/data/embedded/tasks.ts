/**
 * The embedded instruction dataset and its pretraining corpus.
 *
 * Every task has one checkable answer: facts about the generated world,
 * one-digit addition, string transformations (reverse, capitals) and
 * formatting (last name first). The pretraining corpus states every fact in
 * plain text, one sentence per line, including the held-out ones: as a
 * statement, as the answer first, and as the question on one line with the
 * bare answer on the next (as a web page's FAQ would). The instruction set
 * teaches the chat format (`<|prompt|>`, `<|answer|>`, stopping with EOS)
 * on the train split only. So a base model pretrained on the corpus "knows" the held-out facts
 * but not the format, and fine-tuning should raise held-out exact match.
 */
import { Random } from "../../util/random.js";
import type { Person, World } from "./world.js";

export type SkillCategory = "facts" | "arithmetic" | "strings" | "formatting";

export interface SkillTask {
  /** Stable id, e.g. `facts-city-mira-kel`. */
  id: string;
  category: SkillCategory;
  prompt: string;
  answer: string;
  tags: string[];
  /** Prose variants stating the same fact (used in the pretraining corpus). */
  prose: string[];
}

const full = (p: Person) => `${p.first} ${p.last}`;
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-");

function personTasks(p: Person): SkillTask[] {
  const n = full(p);
  const id = slug(n);
  return [
    {
      id: `facts-city-${id}`, category: "facts", tags: ["city"],
      prompt: `Where does ${n} live?`, answer: p.city,
      prose: [`${n} lives in ${p.city}.`, `Where does ${n} live?\n${p.city}`, `${p.city} is the home of ${n}.`],
    },
    {
      id: `facts-colour-${id}`, category: "facts", tags: ["colour"],
      prompt: `What is the favourite colour of ${n}?`, answer: p.colour,
      prose: [`The favourite colour of ${n} is ${p.colour}.`, `What is the favourite colour of ${n}?\n${p.colour}`, `${capital(p.colour)} is the favourite colour of ${n}.`],
    },
    {
      id: `facts-pet-${id}`, category: "facts", tags: ["pet"],
      prompt: `What pet does ${n} have?`, answer: p.pet,
      prose: [`${n} has a pet ${p.pet}.`, `What pet does ${n} have?\n${p.pet}`, `${capital(p.pet)} is the pet of ${n}.`],
    },
    {
      id: `facts-job-${id}`, category: "facts", tags: ["job"],
      prompt: `What is the job of ${n}?`, answer: p.job,
      prose: [`${n} works as a ${p.job}.`, `What is the job of ${n}?\n${p.job}`, `${capital(p.job)} is the job of ${n}.`],
    },
    {
      id: `formatting-lastfirst-${id}`, category: "formatting", tags: ["names"],
      prompt: `Write the name ${n} with the last name first.`, answer: `${p.last}, ${p.first}`,
      prose: [`${n} written last name first is ${p.last}, ${p.first}.`, `Write the name ${n} with the last name first.\n${p.last}, ${p.first}`, `${p.last}, ${p.first} is ${n} with the last name first.`],
    },
  ];
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function wordTasks(w: string): SkillTask[] {
  const rev = [...w].reverse().join("");
  const up = w.toUpperCase();
  return [
    {
      id: `strings-reverse-${w}`, category: "strings", tags: ["reverse"],
      prompt: `Reverse the word ${w}.`, answer: rev,
      prose: [`The word ${w} reversed is ${rev}.`, `Reverse the word ${w}.\n${rev}`, `${rev} is the word ${w} reversed.`],
    },
    {
      id: `strings-upper-${w}`, category: "strings", tags: ["uppercase"],
      prompt: `Write the word ${w} in capital letters.`, answer: up,
      prose: [`The word ${w} in capital letters is ${up}.`, `Write the word ${w} in capital letters.\n${up}`, `${up} is the word ${w} in capital letters.`],
    },
  ];
}

function additionTask(a: number, b: number): SkillTask {
  const c = a + b;
  return {
    id: `arithmetic-add-${a}-${b}`, category: "arithmetic", tags: ["addition"],
    prompt: `What is ${a} + ${b}?`, answer: String(c),
    prose: [`${a} plus ${b} is ${c}.`, `What is ${a} + ${b}?\n${c}`, `${c} is the sum of ${a} and ${b}.`],
  };
}

/** Every task of the world, in a stable order. */
export function embeddedTasks(world: World): SkillTask[] {
  const tasks: SkillTask[] = [];
  for (const p of world.people) tasks.push(...personTasks(p));
  for (const w of world.words) tasks.push(...wordTasks(w));
  for (let a = 0; a <= world.maxAddend; a++) for (let b = 0; b <= world.maxAddend; b++) tasks.push(additionTask(a, b));
  return tasks;
}

export interface TaskSplit {
  train: SkillTask[];
  heldOut: SkillTask[];
}

/**
 * Holds out `fraction` of each category (at least one per category), seeded.
 * Held-out tasks never appear in instruction form in the train split; their
 * facts are still stated in the pretraining corpus.
 */
export function splitTasks(tasks: readonly SkillTask[], fraction = 0.2, seed = 1): TaskSplit {
  const r = new Random(seed).fork("task-split");
  const train: SkillTask[] = [];
  const heldOut: SkillTask[] = [];
  const cats = [...new Set(tasks.map((t) => t.category))];
  for (const c of cats) {
    const items = tasks.filter((t) => t.category === c);
    const order = r.shuffle(items.map((_, i) => i));
    const k = Math.max(1, Math.round(items.length * fraction));
    const held = new Set(order.slice(0, k));
    items.forEach((t, i) => (held.has(i) ? heldOut : train).push(t));
  }
  return { train, heldOut };
}

/** LLM Studio-style records (`id`, `prompt`, `answer`, `category`) for the dataset loader. */
export function taskRecords(tasks: readonly SkillTask[]): Record<string, string>[] {
  return tasks.map((t) => ({ id: t.id, category: t.category, prompt: t.prompt, answer: t.answer }));
}

export interface CorpusOptions {
  /** How many times each fact's prose variants are used (default 4). */
  repeats?: number;
  /** Sentences per document (default 8). */
  sentencesPerDocument?: number;
}

/**
 * The pretraining corpus: every prose variant of every task `repeats` times,
 * shuffled into documents with one sentence per line (so answers also appear
 * at the start of a line, tokenized as they are after an answer marker).
 */
export function pretrainingCorpus(tasks: readonly SkillTask[], seed = 1, opts: CorpusOptions = {}): string[] {
  const repeats = opts.repeats ?? 4;
  const per = opts.sentencesPerDocument ?? 8;
  const r = new Random(seed).fork("corpus");
  const sentences: string[] = [];
  for (let k = 0; k < repeats; k++) for (const t of tasks) sentences.push(...t.prose);
  r.shuffle(sentences);
  const docs: string[] = [];
  for (let i = 0; i < sentences.length; i += per) docs.push(sentences.slice(i, i + per).join("\n"));
  return docs;
}
