// Spec for kernels/edit.ts: one step of the edit lookahead at the root of a hand-built trie of the names
// "f" and "ph", with the similar spelling "f" / "ph" (one edit, either way round), against costs worked
// out by hand; truncation before a unit; and the budget turning a token beyond it into −∞.
import { edit_lookahead_step } from '../../kernels/constrained/edit';

const arena = memory.data(1 << 14, 16);
const QUERY = arena;
const QSTART = arena + 64;
const SIMOFF = arena + 128;
const SIM = arena + 192;
const COSTS = arena + 320;
const UOFF = arena + 384;
const UNITS = arena + 448;
const CHILD = arena + 512;
const LABEL = arena + 576;
const NODES = arena + 640;
const ROWQ = arena + 656;
const ROWSTART = arena + 704;
const RTOFF = arena + 832;
const RTOK = arena + 848;
const ROWVAL = arena + 864;
const OFF = arena + 880;
const TOK = arena + 896;
const SCORES = arena + 912;
const OUTSTATE = arena + 960;
const OUTVAL = arena + 1088;
const SCRATCH = arena + 2048;

const F: i32 = 102;
const P: i32 = 112;
const H: i32 = 104;
const COST: f64 = 10; // insert, delete, substitute, transpose and repeat
const SIMILAR: f64 = 1;

function puti(p: usize, vals: i32[]): void {
  for (let i = 0; i < vals.length; i++) store<i32>(p + (<usize>i << 2), vals[i]);
}
function putf(p: usize, vals: f64[]): void {
  for (let i = 0; i < vals.length; i++) store<f64>(p + (<usize>i << 3), vals[i]);
}
function getf(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

/**
 * Score the root's two tokens ('f' → name "f", 'p' → name "ph") for `query` (one or two units), with the
 * similar entries `sim` per query position (offsets `simOffsets`); values land in OUTVAL, scores in SCORES.
 */
function step(query: i32[], simOffsets: i32[], sim: i32[], budget: f64, truncateCost: f64 = Infinity): void {
  const m = query.length;
  puti(QUERY, query);
  puti(QSTART, [0, m]);
  puti(SIMOFF, simOffsets);
  puti(SIM, sim.length ? sim : [0]);
  putf(COSTS, [COST, COST, COST, SIMILAR, COST, COST]);
  // Tokens: 0 end (no units), 1 'f', 2 'p', 3 'h'.
  puti(UOFF, [0, 0, 1, 2, 3]);
  puti(UNITS, [F, P, H]);
  // Trie (breadth first): root → 'f' (1), 'p' (2); 1 → end (3); 2 → 'h' (4); 4 → end (5).
  puti(CHILD, [1, 3, 4, 5, 5, 6, 6]);
  puti(LABEL, [-1, 1, 2, 0, 3, 0]);
  puti(NODES, [0]);
  puti(ROWQ, [0]);
  // Initial state, stride 2·(m + 1) + 2: the query typed into nothing, no column before, no last unit,
  // no early stop yet.
  const stride = 2 * (m + 1) + 2;
  for (let i = 0; i <= m; i++) putf(ROWSTART + (<usize>i << 3), [<f64>i * COST]);
  for (let i = 0; i <= m; i++) putf(ROWSTART + (<usize>(m + 1 + i) << 3), [Infinity]);
  putf(ROWSTART + (<usize>(2 * m + 2) << 3), [-1, Infinity]);
  puti(RTOFF, [0, 0]);
  puti(RTOK, [0]);
  putf(ROWVAL, [0]);
  puti(OFF, [0, 2]);
  puti(TOK, [1, 2]);
  putf(SCORES, [0, 0]);
  edit_lookahead_step(
    QUERY, QSTART, SIMOFF, SIM, COSTS, 0, H, truncateCost, UOFF, UNITS, 0, CHILD, LABEL, 3,
    1, NODES, ROWQ, stride, ROWSTART, RTOFF, RTOK, ROWVAL, Infinity, OFF, TOK, 0, budget, SCORES,
    OUTSTATE, OUTVAL, SCRATCH,
  );
}

describe('edit lookahead kernel', () => {
  it('"f" typed for "ph" is one similar edit: name "ph" costs 1, "f" 0', () => {
    // Query position 0 ('f'): query length 1 typed for the name units (p, h).
    step([F], [0, 1], [1, 2, P, H], Infinity);
    expect(getf(OUTVAL, 0)).toBe(0);
    expect(getf(OUTVAL, 1)).toBe(SIMILAR);
    expect(getf(SCORES, 1)).toBe(-SIMILAR);
  });

  it('"ph" typed for "f" is one similar edit: name "f" costs 1, "ph" 0', () => {
    // Query position 1 ('h'): the query units (p, h) typed for the name unit f.
    step([P, H], [0, 0, 1], [2, 1, F, -1], Infinity);
    expect(getf(OUTVAL, 0)).toBe(SIMILAR);
    expect(getf(OUTVAL, 1)).toBe(0);
  });

  it('without the pair, "ph" for "f" is a substitution and an insertion', () => {
    step([P, H], [0, 0, 0], [], Infinity);
    expect(getf(OUTVAL, 0)).toBe(2 * COST);
    expect(getf(OUTVAL, 1)).toBe(0);
  });

  it('the query may stop before an "h" at the truncation cost: "p" for "ph" costs 0.5, not a deletion', () => {
    step([P], [0, 0], [], Infinity, 0.5);
    expect(getf(OUTVAL, 0)).toBe(COST);
    expect(getf(OUTVAL, 1)).toBe(0.5);
    step([P], [0, 0], [], Infinity);
    expect(getf(OUTVAL, 1)).toBe(COST);
  });

  it('a token whose best name costs more than the budget scores −∞', () => {
    step([F], [0, 1], [1, 2, P, H], 0.5);
    expect(getf(SCORES, 0)).toBe(0);
    expect(getf(SCORES, 1)).toBe(-Infinity);
  });
});
