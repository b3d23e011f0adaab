/**
 * A small generated world: people with a home town, a favourite colour, a
 * pet and a job, plus a word list for string skills. Everything is drawn from
 * one seeded Random, so the same seed always gives the same world, and the
 * facts are invented, so a model can only know them from tslm's own corpus.
 */
import { Random } from "../../util/random.js";

export interface Person {
  first: string;
  last: string;
  city: string;
  colour: string;
  pet: string;
  job: string;
}

export interface World {
  seed: number;
  people: Person[];
  cities: string[];
  /** Words used by the string-transformation skills. */
  words: string[];
  /** Addition facts cover a + b for a, b in [0, maxAddend]. */
  maxAddend: number;
}

export interface WorldOptions {
  /** Number of people (default 24). */
  people?: number;
  /** Number of towns (default 8). */
  cities?: number;
  /** Number of words for string skills (default 24). */
  words?: number;
  /** Largest addend of the arithmetic facts (default 9). */
  maxAddend?: number;
}

const COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "white", "black"];
const PETS = ["cat", "dog", "owl", "fox", "goat", "crow", "frog", "horse"];
const JOBS = ["baker", "farmer", "smith", "painter", "sailor", "doctor", "teacher", "miner"];
const WORDS = [
  "lamp", "river", "stone", "cloud", "apple", "bread", "chair", "dream", "eagle", "flame",
  "garden", "honey", "island", "jungle", "kettle", "lemon", "marble", "needle", "orbit", "pepper",
  "quiet", "rocket", "silver", "tiger", "velvet", "winter", "yellow", "zebra", "candle", "forest",
];
const ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kr", "st", "th"];
const VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"];
const CODAS = ["", "", "n", "r", "l", "s", "th", "m"];
const TOWN_ENDS = ["vale", "moor", "ford", "holm", "wick", "dale", "port", "crest"];

function syllable(r: Random): string {
  return r.choice(ONSETS) + r.choice(VOWELS) + r.choice(CODAS);
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Draws a name of 2 syllables not yet in `used`. */
function uniqueName(r: Random, used: Set<string>, make: () => string): string {
  for (let tries = 0; tries < 10_000; tries++) {
    const n = make();
    if (!used.has(n) && n.length >= 3 && n.length <= 9) {
      used.add(n);
      return n;
    }
  }
  throw new Error("uniqueName: ran out of names (world options too large)");
}

/**
 * Generates the world for `seed`.
 * @example generateWorld(1).people.length === 24
 */
export function generateWorld(seed = 1, opts: WorldOptions = {}): World {
  const nPeople = opts.people ?? 24;
  const nCities = opts.cities ?? 8;
  const nWords = opts.words ?? 24;
  if (nWords > WORDS.length) throw new RangeError(`generateWorld: at most ${WORDS.length} words, asked for ${nWords}`);
  const r = new Random(seed).fork("world");
  const used = new Set<string>();
  const cities = Array.from({ length: nCities }, () => uniqueName(r, used, () => capital(syllable(r)) + r.choice(TOWN_ENDS)));
  const people: Person[] = [];
  for (let i = 0; i < nPeople; i++) {
    const first = uniqueName(r, used, () => capital(syllable(r) + syllable(r)));
    const last = uniqueName(r, used, () => capital(syllable(r) + syllable(r)));
    people.push({ first, last, city: r.choice(cities), colour: r.choice(COLOURS), pet: r.choice(PETS), job: r.choice(JOBS) });
  }
  const words = r.shuffle([...WORDS]).slice(0, nWords);
  return { seed, people, cities, words, maxAddend: opts.maxAddend ?? 9 };
}
