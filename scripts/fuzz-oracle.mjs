#!/usr/bin/env node
// Differential fuzzing of the pymalloc simulation (`pyheap replay`) against the real allocator
// (the oracle replayers of /work/oracle/tools, see its README). A development tool: plain Node
// ESM, no dependencies, never imported or run by the test suite.
//
//   node scripts/fuzz-oracle.mjs --oracle-dir /work/oracle/tools --seeds 1-50 --ops 20000 \
//        [--versions 3.7,3.8,3.9,3.10,3.11] [--offsets '0;4096;0,4096,8192,2048;2048']
//
// For each seed it generates a random trace (its own seeded PRNG; no gen_trace.py), replays it
// through `replay-3.X --internals --check --arena-offsets L` and through
// `node bin/pyheap.js replay --python 3.X --internals --arena-offsets L`, for every version and
// offset list, and compares the two dumps byte for byte. On a mismatch the trace and both
// outputs go to --fail-dir (default /tmp/fuzz-fail/), then the trace is shrunk (prefix cut,
// binary search on the prefix length, chunk deletion keeping the trace valid, ID renaming) and
// the minimal trace and its two outputs are saved beside it.
//
// Trace styles (the seed picks the primary style, (seed - 1) mod 6, and the mix that follows):
//   uniform  - sizes 1..600 (and 0) with frees, some calloc and realloc;
//   realloc  - blocks grown and shrunk across the 3/4 rule and across 512, realloc to 0,
//              realloc(NULL) through unused or freed ids, raw blocks resized;
//   calloc   - calloc in pools / raw / zero / overflowing to NULL, sizes above PY_SSIZE_T_MAX
//              and above the address space (2^47..) for a and r;
//   frag     - grow to >= 21 MiB of pools (3.10/3.11: 21+ arenas; 3.7-3.9: 84+ arenas, vector
//              past 16/32/64), release almost everything in several patterns, regrow (this
//              style uses more operations than --ops when it needs them);
//   thrash   - fill exactly to an arena boundary of some geometry, then alloc/free loops that
//              make an arena wholly free again and again (3.8 vs 3.9 release rule);
//   pools    - one size class filled to exactly k pools, freed LIFO/FIFO/random, the pools
//              reused by another class, then by the first again.
// IDs: small, negative, near +-2^63, random 64-bit, reused after free, and (unless --safe-ids)
// a few 16-digit IDs above 2^53.
//
// A trace is valid by construction: liveness is tracked, with NULL results predicted
// statically (every request is either <= 16 MiB, which succeeds, or >= 2^47 bytes / above
// PY_SSIZE_T_MAX / a calloc overflow, which returns NULL on x86-64 Linux whatever the
// overcommit setting). Sizes in between (e.g. 1 TiB) are never generated: whether libc
// satisfies them depends on the machine.
//
// Exit status: 0 no mismatch (or nothing to compare: a missing oracle binary is skipped with a
// message), 1 at least one mismatch, 2 usage error.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync, openSync, closeSync, rmSync, accessSync, copyFileSync, statSync, constants as fsc } from 'node:fs';
import { dirname, resolve, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ALL_VERSIONS = ['3.7', '3.8', '3.9', '3.10', '3.11'];
const DEFAULT_OFFSETS = ['0', '4096', '0,4096,8192,2048', '2048'];
const STYLES = ['uniform', 'realloc', 'calloc', 'frag', 'thrash', 'pools'];

const USAGE = `usage: node scripts/fuzz-oracle.mjs --oracle-dir DIR --seeds A-B[,C,...] [options]
  --oracle-dir DIR     directory with replay-3.7 ... replay-3.11 (required)
  --seeds LIST         seeds: 1-50 or 1,4,9 or 3 (default 1-10)
  --ops N              operations per trace (default 20000; 'frag' traces use more if needed)
  --versions LIST      default ${ALL_VERSIONS.join(',')}
  --offsets LIST       offset lists separated by ';' (default '${DEFAULT_OFFSETS.join(';')}')
  --style NAME         force the primary style (${STYLES.join(', ')})
  --safe-ids           no 16-digit IDs above 2^53 (skips a known simulator bug)
  --fail-dir DIR       where mismatches go (default /tmp/fuzz-fail)
  --max-shrinks N      shrink at most N mismatches (default 3; the rest are only saved)
  --max-saves N        save at most N mismatching traces (default 30)
  --stop-after N       stop after N mismatches (default: never)
  --shrink-tests N     at most N replays per shrink (default 4000)
  --shrink-seconds S   at most S seconds per shrink (default 900)
  --no-check           do not pass --check to the oracle
  --cli FILE           the simulator CLI to run (default: a private copy of out/cli/pyheap.mjs
                       taken at start, so a rebuild during the run changes nothing)
  --build              bundle src/cli/main.ts afresh into the private work dir (not into out/)
  --gen-only DIR       only write the generated traces into DIR
  --replay FILE        compare one given trace file instead of generating (no shrink unless --shrink)
  --shrink             with --replay: shrink a mismatch
  --quiet              no per-seed progress on stderr`;

// =============================================================================================
// Arguments
// =============================================================================================

function parseArgs(argv) {
  const o = {
    oracleDir: null, seeds: '1-10', ops: 20000, versions: ALL_VERSIONS.join(','), offsets: DEFAULT_OFFSETS.join(';'),
    style: null, safeIds: false, failDir: '/tmp/fuzz-fail', maxShrinks: 3, maxSaves: 30, shrinkTests: 4000, stopAfter: Infinity,
    shrinkSeconds: 900, check: true, cli: null, build: false, genOnly: null, replay: null,
    shrink: false, quiet: false,
  };
  const val = (i) => {
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--oracle-dir': o.oracleDir = val(i); i++; break;
      case '--seeds': o.seeds = val(i); i++; break;
      case '--ops': o.ops = intArg(a, val(i)); i++; break;
      case '--versions': o.versions = val(i); i++; break;
      case '--offsets': o.offsets = val(i); i++; break;
      case '--style': o.style = val(i); i++; if (!STYLES.includes(o.style)) usage(`unknown style ${o.style}`); break;
      case '--safe-ids': o.safeIds = true; break;
      case '--fail-dir': o.failDir = val(i); i++; break;
      case '--max-shrinks': o.maxShrinks = intArg(a, val(i)); i++; break;
      case '--max-saves': o.maxSaves = intArg(a, val(i)); i++; break;
      case '--stop-after': o.stopAfter = intArg(a, val(i)); i++; break;
      case '--shrink-tests': o.shrinkTests = intArg(a, val(i)); i++; break;
      case '--shrink-seconds': o.shrinkSeconds = intArg(a, val(i)); i++; break;
      case '--no-check': o.check = false; break;
      case '--cli': o.cli = resolve(val(i)); i++; break;
      case '--build': o.build = true; break;
      case '--gen-only': o.genOnly = val(i); i++; break;
      case '--replay': o.replay = val(i); i++; break;
      case '--shrink': o.shrink = true; break;
      case '--quiet': o.quiet = true; break;
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0);
      // falls through
      default: usage(`unknown argument ${a}`);
    }
  }
  o.seedList = parseSeeds(o.seeds);
  o.versionList = o.versions.split(',').map((s) => s.trim()).filter(Boolean);
  for (const v of o.versionList) if (!ALL_VERSIONS.includes(v)) usage(`unknown version ${v}`);
  o.offsetList = o.offsets.split(';').map((s) => s.trim()).filter(Boolean);
  for (const l of o.offsetList) if (!/^\d+(,\d+)*$/.test(l)) usage(`bad offset list '${l}'`);
  if (!o.genOnly && !o.oracleDir) usage('--oracle-dir is required');
  return o;
}

function intArg(name, s) {
  if (!/^\d+$/.test(s)) usage(`${name} wants a non-negative integer, got '${s}'`);
  return Number(s);
}

function parseSeeds(s) {
  const out = [];
  for (const part of s.split(',')) {
    const m = /^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$/.exec(part);
    if (!m) usage(`bad seed list '${s}'`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let x = a; x <= b; x++) out.push(x);
  }
  return out;
}

function gitHead() {
  const h = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const st = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' });
  if (h.status !== 0) return 'unknown';
  const dirty = st.stdout.trim().split('\n').filter(Boolean).length;
  return `${h.stdout.trim()}${dirty > 0 ? ` + ${dirty} uncommitted file(s) in src/` : ''}`;
}

function usage(msg) {
  process.stderr.write(`fuzz-oracle: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

// =============================================================================================
// PRNG: sfc32 seeded through splitmix32
// =============================================================================================

class Rng {
  constructor(seed) {
    let s = (seed ^ 0x5eed_c0de) | 0;
    const sm = () => {
      s = (s + 0x9e3779b9) | 0;
      let t = s ^ (s >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.a = sm(); this.b = sm(); this.c = sm(); this.d = sm();
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32() {
    let { a, b, c, d } = this;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    this.a = a; this.b = b; this.c = c; this.d = d;
    return t >>> 0;
  }
  float() { return this.u32() / 4294967296; }
  /** Integer in [lo, hi], both inclusive (|range| < 2^53). */
  int(lo, hi) { return lo + Math.floor(this.float() * (hi - lo + 1)); }
  chance(p) { return this.float() < p; }
  pick(arr) { return arr[Math.floor(this.float() * arr.length)]; }
  /** Unsigned 64-bit BigInt. */
  big64() { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
  shuffle(arr) {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const t = arr[i]; arr[i] = arr[j]; arr[j] = t;
    }
    return arr;
  }
}

// =============================================================================================
// Trace validity (shared by the generator's self-check and the shrinker)
// =============================================================================================

const HUGE = 1n << 47n; // >= this many bytes: NULL on x86-64 Linux (beyond the user address space)
const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;
const TWO53 = 1n << 53n;
const LIMIT_OK = 1n << 24n; // largest size the generator requests that must succeed

/** An op is [kind, id, arg1, arg2?] with decimal strings. True when the call returns NULL. */
function opIsNull(op) {
  if (op[0] === 'c') return BigInt(op[2]) * BigInt(op[3]) >= HUGE;
  return BigInt(op[2]) >= HUGE;
}

/** Drops the ops that the deletion of others made invalid (free of a non-live id, a/c of a live id). */
function repair(ops) {
  const live = new Set();
  const out = [];
  for (const op of ops) {
    const id = op[1];
    switch (op[0]) {
      case 'a':
      case 'c':
        if (live.has(id)) continue;
        out.push(op);
        if (!opIsNull(op)) live.add(id);
        break;
      case 'r':
        out.push(op);
        if (!opIsNull(op)) live.add(id);
        break;
      case 'f':
        if (!live.has(id)) continue;
        out.push(op);
        live.delete(id);
        break;
    }
  }
  return out;
}

function traceText(ops, header = []) {
  const lines = header.map((h) => `# ${h}`);
  for (const op of ops) lines.push(op.join(' '));
  return lines.join('\n') + '\n';
}

function parseTraceText(text) {
  const ops = [];
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) continue;
    ops.push(l.split(/\s+/));
  }
  return ops;
}

// =============================================================================================
// Trace generator
// =============================================================================================

/** Block size of a pool request, 0 when the request goes to the raw allocator. */
function blockSize(n) {
  return n >= 1 && n <= 512 ? ((n + 15) >> 4) << 4 : 0;
}
const cap4 = (b) => Math.floor((4096 - 48) / b);
const cap16 = (b) => Math.floor((16384 - 48) / b);

class Gen {
  constructor(seed, opts) {
    this.seed = seed;
    this.rng = new Rng(seed);
    this.safeIds = opts.safeIds;
    this.ops = [];
    /** id -> { b: block size (0 raw), i: index in liveArr } */
    this.live = new Map();
    this.liveArr = [];
    this.dead = [];
    this.counter = 1;
    this.styleCounts = {};
  }

  get n() { return this.ops.length; }
  get liveCount() { return this.liveArr.length; }

  // ---- ids ----
  freshId() {
    const r = this.rng;
    for (;;) {
      const x = r.float();
      let id;
      if (x < 0.72) id = String(this.counter++);
      else if (x < 0.81) id = String(-this.counter++);
      else if (x < 0.85) id = String(I64_MAX - BigInt(this.counter++));
      else if (x < 0.89) id = String(I64_MIN + BigInt(this.counter++));
      else if (x < 0.93) id = String(BigInt.asIntN(64, r.big64()));
      else if (x < 0.935) id = String(TWO53 + BigInt(r.int(-4, 40)));
      else if (x < 0.937) id = String(TWO53 + BigInt(Math.floor(r.float() * (1e16 - 2 ** 53))));
      else if (x < 0.945) id = String(r.pick([0n, -1n, 1n, I64_MAX, I64_MIN, I64_MAX - 1n, I64_MIN + 1n, -TWO53 - 1n, TWO53 - 1n, 1n - TWO53, 10n ** 16n, 10n ** 15n - 1n]));
      else if (this.dead.length > 0) id = r.pick(this.dead);
      else continue;
      if (this.safeIds && unsafeId(id)) continue;
      if (!this.live.has(id)) return id;
    }
  }

  addLive(id, b) {
    const rec = this.live.get(id);
    if (rec) { rec.b = b; return; }
    this.live.set(id, { b, i: this.liveArr.length });
    this.liveArr.push(id);
  }

  delLive(id) {
    const rec = this.live.get(id);
    const last = this.liveArr.pop();
    if (last !== id) {
      this.liveArr[rec.i] = last;
      this.live.get(last).i = rec.i;
    }
    this.live.delete(id);
    if (this.dead.length < 2000) this.dead.push(id);
    else this.dead[this.rng.int(0, this.dead.length - 1)] = id;
  }

  randomLive() { return this.liveArr[this.rng.int(0, this.liveArr.length - 1)]; }

  // ---- operations ----
  /** malloc; returns the id when the result is live, else null. */
  a(size, id = this.freshId()) {
    const s = BigInt(size);
    this.ops.push(['a', id, String(s)]);
    if (s >= HUGE) return null;
    this.addLive(id, blockSize(Number(s)));
    return id;
  }

  c(n, size, id = this.freshId()) {
    const p = BigInt(n) * BigInt(size);
    this.ops.push(['c', id, String(BigInt(n)), String(BigInt(size))]);
    if (p >= HUGE) return null;
    this.addLive(id, blockSize(Number(p)));
    return id;
  }

  r(id, size) {
    const s = BigInt(size);
    this.ops.push(['r', id, String(s)]);
    if (s >= HUGE) return null;
    const n = Number(s);
    const rec = this.live.get(id);
    if (rec === undefined) this.addLive(id, blockSize(n));
    else if (rec.b > 0 && !(n <= rec.b && 4 * n > 3 * rec.b)) rec.b = blockSize(n);
    return id;
  }

  f(id) {
    this.ops.push(['f', id]);
    this.delLive(id);
  }

  freeIfLive(id) { if (this.live.has(id)) this.f(id); }

  // ---- size helpers ----
  sizeUniform() { return this.rng.chance(0.02) ? 0 : this.rng.int(1, 600); }

  hugeSize() {
    const r = this.rng;
    return r.pick([1n << 63n, U64_MAX, I64_MAX, HUGE, HUGE + 1n, 1n << 48n, 1n << 50n, TWO53, TWO53 + 1n, 1n << 62n,
      HUGE + (r.big64() % (U64_MAX - HUGE)), (1n << 63n) + (r.big64() >> 1n)]);
  }

  /** A new size for a realloc of a block with block size b (0 raw). */
  reallocSize(b) {
    const r = this.rng;
    if (r.chance(0.02)) return this.hugeSize();
    if (b > 0) {
      const q = (3 * b) >> 2;
      return r.pick([b, b, q, q + 1, q + 1, b + 1, b - 15, b + 16, Math.max(1, b - 16), Math.max(1, b - 17), 512, 513, 511, 497,
        496, 0, 0, 1, 16, 17, 2 * b, b >> 1, (b >> 1) + 1, r.int(1, 512), r.int(1, 1024), r.int(513, 4096), r.int(4097, 300000)]);
    }
    return r.pick([0, 1, 16, r.int(1, 512), 512, 513, r.int(513, 4096), r.int(4097, 1 << 20), 131072, 131073, 200000, 1 << 22]);
  }

  // ==========================================================================================
  // Styles: each appends about `budget` operations
  // ==========================================================================================

  uniform(budget) {
    const r = this.rng;
    const end = this.n + budget;
    let target = r.int(20, 4000);
    while (this.n < end) {
      if (r.chance(0.002)) target = r.int(0, 5000);
      const L = this.liveCount;
      if (L === 0 || r.chance(L < target ? 0.7 : 0.3)) {
        const x = r.float();
        if (x < 0.88) this.a(this.sizeUniform());
        else if (x < 0.93) { const s = r.int(1, 64); this.c(r.int(0, Math.floor(600 / s)), s); }
        else if (x < 0.97 && L > 0) this.r(this.randomLive(), this.sizeUniform());
        else this.r(this.freshId(), this.sizeUniform());
      } else {
        this.f(this.randomLive());
      }
    }
  }

  realloc(budget) {
    const r = this.rng;
    const end = this.n + budget;
    const K = r.int(10, 600);
    while (this.n < end) {
      const L = this.liveCount;
      if (L < K && r.chance(0.4)) {
        const y = r.float();
        if (y < 0.7) this.a(r.int(1, 512));
        else if (y < 0.85) this.a(r.int(513, 70000));
        else this.r(this.freshId(), this.reallocSize(16 * r.int(1, 32)));
        continue;
      }
      const x = r.float();
      if (x < 0.72 && L > 0) {
        const id = this.randomLive();
        this.r(id, this.reallocSize(this.live.get(id).b));
      } else if (x < 0.82) {
        this.r(this.freshId(), r.chance(0.1) ? this.hugeSize() : r.pick([0, 1, r.int(1, 512), 512, 513, r.int(513, 8192)]));
      } else if (L > 0) {
        this.f(this.randomLive());
      }
    }
  }

  calloc(budget) {
    const r = this.rng;
    const end = this.n + budget;
    const P62 = 1n << 62n, P63 = 1n << 63n, P32 = 1n << 32n;
    while (this.n < end) {
      const x = r.float();
      if (x < 0.22) {
        const s = r.int(1, 512);
        const n = r.int(1, Math.floor(512 / s));
        if (r.chance(0.5)) this.c(n, s); else this.c(s, n);
      } else if (x < 0.27) {
        const [n, s] = r.pick([[1, 512], [512, 1], [2, 256], [1, 513], [513, 1], [16, 32], [17, 32], [1, 1], [3, 171], [3, 170], [32, 16], [33, 16]]);
        this.c(n, s);
      } else if (x < 0.34) {
        const s = r.int(1, 4096);
        const lo = Math.max(1, Math.ceil(513 / s));
        this.c(r.int(lo, Math.max(lo, Math.floor(65536 / s))), s);
      } else if (x < 0.41) {
        const [n, s] = r.pick([[0n, BigInt(r.int(1, 600))], [BigInt(r.int(1, 600)), 0n], [0n, 0n], [0n, U64_MAX], [P63, 0n],
          [U64_MAX, 0n], [0n, P63], [I64_MAX, 0n]]);
        this.c(n, s);
      } else if (x < 0.52) {
        const [n, s] = r.pick([[2n, P62], [P62, 2n], [3n, P62], [P32, P32], [1n << 31n, P32], [1n, P63], [P63, 1n], [1n, I64_MAX],
          [I64_MAX, 1n], [U64_MAX, U64_MAX], [1n << 24n, 1n << 24n], [1n << 23n, 1n << 24n], [HUGE, 1n], [1n, HUGE],
          [U64_MAX, 2n], [1n << 33n, (1n << 31n) - 1n], [(1n << 32n) - 1n, (1n << 32n) + 1n], [1n, U64_MAX], [2n, I64_MAX / 2n + 1n]]);
        this.c(n, s);
      } else if (x < 0.59) {
        this.a(this.hugeSize());
      } else if (x < 0.67) {
        const id = this.liveCount > 0 && r.chance(0.7) ? this.randomLive() : this.freshId();
        this.r(id, this.hugeSize());
      } else if (x < 0.80) {
        this.a(this.sizeUniform());
      } else if (this.liveCount > 0) {
        this.f(this.randomLive());
      }
    }
  }

  /** Frees `ids` (the live ones) in the order given by `how`, keeping `keep` of them. */
  releaseIds(ids, how, keepFrac) {
    const r = this.rng;
    let order;
    if (how === 'sparse') {
      const k = r.pick([50, 200, 1000, 2000, 5000]);
      order = ids.filter((_, i) => i % k !== 0);
      if (r.chance(0.5)) order.reverse(); else if (r.chance(0.5)) r.shuffle(order);
    } else if (how === 'ranges') {
      order = [];
      let i = 0;
      while (i < ids.length) {
        const len = r.int(1, 5000);
        if (!r.chance(keepFrac * 3)) for (let j = i; j < Math.min(ids.length, i + len); j++) order.push(ids[j]);
        i += len;
      }
      if (r.chance(0.5)) r.shuffle(order);
    } else {
      order = ids.slice();
      if (how === 'lifo') order.reverse();
      else if (how === 'random') r.shuffle(order);
      const keep = Math.floor(order.length * keepFrac);
      // keep a random few (not a prefix) so that the survivors are spread out
      for (let i = 0; i < keep; i++) order[r.int(0, order.length - 1)] = null;
    }
    for (const id of order) if (id !== null) this.freeIfLive(id);
  }

  frag(budget) {
    const r = this.rng;
    const big = budget >= 150000;
    const targetArenas = big ? r.pick([34, 66, 70]) : r.chance(0.2) ? 66 : r.pick([21, 22, 25, 34]);
    const cycles = big ? 3 : r.int(2, 3);
    let targetPools = Math.ceil(targetArenas * 64 * 1.04); // 16 KiB pools (3.10+); 4x as many arenas on 3.7-3.9
    for (let cyc = 0; cyc < cycles; cyc++) {
      const ids = [];
      const perClass = new Array(32).fill(0);
      let pools = 0;
      const big512 = r.float() * 0.4 + 0.5;
      while (pools < targetPools) {
        const size = r.chance(big512) ? r.int(497, 512) : r.chance(0.03) ? r.int(513, 2000) : r.int(1, 512);
        const id = this.a(size);
        ids.push(id);
        if (size <= 512) {
          const c = (size - 1) >> 4;
          if (perClass[c]++ % cap16((c + 1) * 16) === 0) pools++;
        }
        if (r.chance(0.03) && this.liveCount > 0) this.f(this.randomLive());
        if (r.chance(0.005) && this.liveCount > 0) this.r(this.randomLive(), this.reallocSize(16 * r.int(1, 32)));
      }
      const how = r.pick(['random', 'sparse', 'ranges', 'lifo', 'fifo']);
      const keep = r.pick([0, 0.001, 0.005, 0.02, 0.1]);
      this.releaseIds(ids, how, keep);
      // Regrow less (so that released arenas' objects get reused through unused_arena_objects).
      targetPools = Math.ceil(targetPools * r.pick([0.3, 0.5, 0.8, 1.0]));
    }
    if (r.chance(0.5)) this.releaseIds(this.liveArr.slice(), r.pick(['random', 'lifo', 'fifo']), 0);
  }

  thrash(budget) {
    const r = this.rng;
    const end = this.n + budget;
    while (this.n < end) {
      const room = Math.max(2000, Math.floor((end - this.n) * 0.6));
      let B = r.pick([16, 32, 48, 64, 128, 256, 496, 512, 16 * r.int(1, 32)]);
      if (63 * cap4(B) > room) B = r.pick([256, 384, 448, 496, 512]);
      const size = Math.max(1, B - r.int(0, 15));
      const c4 = cap4(B), c16 = cap16(B);
      const cands = [64 * c4, 2 * 64 * c4, 63 * c4, 64 * c4 + 63 * c4, 3 * 64 * c4, 64 * c16, 63 * c16, 2 * 63 * c16, 64 * c16 + 63 * c16];
      const fitting = cands.filter((x) => x <= room);
      const F = Math.max(1, (fitting.length > 0 ? r.pick(fitting) : 64 * c4) + r.pick([-1, 0, 0, 0, 1]));
      const fill = [];
      for (let i = 0; i < F; i++) {
        const id = r.chance(0.05) ? this.c(1, size) : this.a(size);
        fill.push(id);
      }
      const loops = r.int(50, 2000);
      const freeAllMode = r.chance(0.2);
      const loopEnd = Math.max(end, this.n + 2000);
      for (let l = 0; l < loops && this.n < loopEnd; l++) {
        const x = r.float();
        if (freeAllMode && x < 0.1) {
          // everything wholly free, then one block again
          const ord = r.chance(0.5) ? fill.slice().reverse() : fill.slice();
          for (const id of ord) this.freeIfLive(id);
          fill.length = 0;
          const m = r.pick([1, 2, F]);
          for (let i = 0; i < m && this.n < loopEnd + 5000; i++) fill.push(this.a(size));
        } else if (x < 0.55) {
          const m = r.pick([1, 1, 1, 2, 3, 5]);
          const tmp = [];
          for (let i = 0; i < m; i++) tmp.push(this.a(r.chance(0.7) ? size : r.int(1, 512)));
          if (r.chance(0.5)) tmp.reverse(); else r.shuffle(tmp);
          for (const id of tmp) this.f(id);
        } else if (x < 0.7 && fill.length > 0) {
          const id = fill.pop();
          this.freeIfLive(id);
          fill.push(this.a(size));
        } else if (x < 0.8 && fill.length > 0) {
          const k = Math.min(fill.length, r.int(1, c16));
          const gone = fill.splice(fill.length - k, k);
          for (const id of r.chance(0.5) ? gone.reverse() : gone) this.freeIfLive(id);
          for (let i = 0; i < k; i++) fill.push(this.a(size));
        } else if (x < 0.9 && fill.length > 0) {
          const id = fill[r.int(0, fill.length - 1)];
          if (this.live.has(id)) {
            this.r(id, r.int(1, 512));
            this.r(id, size);
          }
        } else if (fill.length > 0) {
          const j = r.int(0, fill.length - 1);
          this.freeIfLive(fill[j]);
          fill[j] = this.a(size);
        }
      }
      // leave some, free the rest
      this.releaseIds(fill, r.pick(['random', 'lifo', 'fifo']), r.pick([0, 0, 0.5, 1]));
    }
  }

  pools(budget) {
    const r = this.rng;
    const end = this.n + budget;
    while (this.n < end) {
      const B1 = 16 * r.int(1, 32);
      const size1 = Math.max(1, B1 - r.int(0, 15));
      const cap = r.chance(0.5) ? cap4(B1) : cap16(B1);
      let k = r.pick([1, 1, 2, 3, 4]);
      while (k > 1 && k * cap > (end - this.n) * 0.5) k--;
      const count = Math.max(1, k * cap + r.pick([0, 0, 0, -1, 1]));
      const ids = [];
      const viaCalloc = r.chance(0.15);
      for (let i = 0; i < count; i++) ids.push(viaCalloc ? (r.chance(0.5) ? this.c(1, size1) : this.c(size1, 1)) : this.a(size1));
      const how = r.pick(['lifo', 'fifo', 'random', 'alternate']);
      let order = ids.slice();
      if (how === 'lifo') order.reverse();
      else if (how === 'random') r.shuffle(order);
      else if (how === 'alternate') order = ids.filter((_, i) => i % 2 === 0).concat(ids.filter((_, i) => i % 2 === 1));
      const frac = r.pick(['all', 'all', 'allbut1', 'half']);
      if (frac === 'allbut1') order.splice(r.int(0, order.length - 1), 1);
      if (frac === 'half') order = order.slice(0, order.length >> 1);
      for (const id of order) this.freeIfLive(id);
      // another class takes the empty pools
      let B2 = 16 * r.int(1, 32);
      if (B2 === B1) B2 = B1 === 512 ? 16 : B1 + 16;
      const cap2 = r.chance(0.5) ? cap4(B2) : cap16(B2);
      const j = r.pick([0, 1, 1, 2]);
      const ids2 = [];
      for (let i = 0; i < Math.min(j * cap2 + r.int(0, 2), Math.max(0, end - this.n)); i++) ids2.push(this.a(Math.max(1, B2 - r.int(0, 15))));
      // the first class again
      const again = [];
      for (let i = 0, m = r.pick([1, 2, cap, cap + 1]); i < m; i++) again.push(this.a(size1));
      const rest = ids.concat(ids2, again).filter((id) => this.live.has(id));
      this.releaseIds(rest, r.pick(['random', 'lifo', 'fifo']), r.pick([0, 0.1, 0.5, 1]));
    }
  }

  run(style, budget) {
    this.styleCounts[style] = (this.styleCounts[style] ?? 0) + 1;
    this[style](budget);
  }
}

/** IDs the simulator's reader turned into inexact doubles (16 digits, above 2^53). */
function unsafeId(id) {
  return id.length === 16 && id[0] !== '-' && BigInt(id) > TWO53;
}

function generate(seed, ops, opts) {
  const g = new Gen(seed, opts);
  const r = g.rng;
  const primary = opts.style ?? STYLES[(((seed - 1) % 6) + 6) % 6];
  if (primary === 'frag' && r.chance(0.5)) g.run('uniform', Math.floor(ops / 10));
  g.run(primary, primary === 'frag' ? ops : Math.round(ops * (0.55 + 0.3 * r.float())));
  const secondaries = STYLES.filter((s) => s !== 'frag');
  while (g.n < ops) {
    const lo = Math.max(1, Math.floor(ops / 8));
    g.run(r.pick(secondaries), Math.min(ops - g.n, r.int(lo, Math.max(lo, Math.floor(ops / 3)))));
  }
  const ending = r.float();
  if (ending < 0.4) g.releaseIds(g.liveArr.slice(), r.pick(['random', 'lifo', 'fifo']), 0);
  else if (ending < 0.6) g.releaseIds(g.liveArr.slice(), 'random', 0.01);
  if (repair(g.ops).length !== g.ops.length) throw new Error(`generator bug: seed ${seed} produced an invalid trace`);
  const header = [`fuzz-oracle seed ${seed} ops ${g.n} primary ${primary} styles ${Object.entries(g.styleCounts).map(([k, v]) => `${k}x${v}`).join(',')}${opts.safeIds ? ' safe-ids' : ''}`];
  return { ops: g.ops, header, primary };
}

// =============================================================================================
// Running both sides
// =============================================================================================

const MAXBUF = 1 << 30;

function runOracle(opts, version, offsets, file) {
  const bin = join(opts.oracleDir, `replay-${version}`);
  const args = ['--internals', '--arena-offsets', offsets];
  if (opts.check) args.push('--check');
  const fd = openSync(file, 'r');
  try {
    const p = spawnSync(bin, args, { stdio: [fd, 'pipe', 'pipe'], maxBuffer: MAXBUF });
    if (p.error) throw p.error;
    return { code: p.status, out: p.stdout, err: p.stderr.toString() };
  } finally {
    closeSync(fd);
  }
}

function runSim(opts, version, offsets, file) {
  const p = spawnSync(process.execPath, [opts.cli, 'replay', '--python', version, '--internals', '--arena-offsets', offsets, file], { maxBuffer: MAXBUF });
  if (p.error) throw p.error;
  return { code: p.status, out: p.stdout, err: p.stderr.toString() };
}

function compareRun(opts, version, offsets, file) {
  const o = runOracle(opts, version, offsets, file);
  const s = runSim(opts, version, offsets, file);
  const same = o.code === s.code && o.out.equals(s.out);
  return { same, o, s };
}

/** First differing line (1-based) and the two lines. */
function firstDiff(a, b) {
  const la = a.toString().split('\n');
  const lb = b.toString().split('\n');
  const n = Math.max(la.length, lb.length);
  for (let i = 0; i < n; i++) {
    if (la[i] !== lb[i]) return { line: i + 1, oracle: la[i] ?? '<end of output>', sim: lb[i] ?? '<end of output>' };
  }
  return null;
}

function diffSummary(res) {
  const parts = [];
  if (res.o.code !== res.s.code) parts.push(`exit status oracle=${res.o.code} sim=${res.s.code}`);
  const d = firstDiff(res.o.out, res.s.out);
  if (d) parts.push(`first difference at line ${d.line}: oracle '${d.oracle}' / sim '${d.sim}'`);
  if (res.o.err) parts.push(`oracle stderr: ${res.o.err.trim().split('\n')[0]}`);
  if (res.s.err) parts.push(`sim stderr: ${res.s.err.trim().split('\n')[0]}`);
  if (res.o.out.includes('check FAIL')) parts.push('ORACLE SELF-CHECK FAILED (check FAIL in its output)');
  return parts.join('; ');
}

// =============================================================================================
// Shrinking
// =============================================================================================

function shrink(opts, version, offsets, ops, workFile, log) {
  const t0 = Date.now();
  let tests = 0;
  const budgetLeft = () => tests < opts.shrinkTests && (Date.now() - t0) / 1000 < opts.shrinkSeconds;
  const test = (cand) => {
    tests++;
    writeFileSync(workFile, traceText(cand));
    return compareRun(opts, version, offsets, workFile);
  };
  let cur = repair(ops);
  let res = test(cur);
  if (res.same) return { ops: cur, tests, note: 'mismatch did not reproduce' };

  // 1. Cut after the first differing result line (the dump of a prefix is a prefix of the dump).
  const d = firstDiff(res.o.out, res.s.out);
  if (d && res.o.code === res.s.code) {
    let k = d.line; // the k-th a/c/r op
    let idx = -1;
    for (let i = 0; i < cur.length; i++) {
      if (cur[i][0] !== 'f' && --k === 0) { idx = i; break; }
    }
    if (idx >= 0) {
      const cand = repair(cur.slice(0, idx + 1));
      if (!test(cand).same) cur = cand;
    }
  }
  // 2. Binary search for a short prefix that still mismatches (not monotonic: any hit is kept).
  {
    let lo = 1, hi = cur.length;
    while (lo < hi && budgetLeft()) {
      const mid = (lo + hi) >> 1;
      const cand = repair(cur.slice(0, mid));
      if (!test(cand).same) { cur = cand; hi = cand.length; } else lo = mid + 1;
    }
  }
  // 3. Coarsen sizes: every pool-sized request becomes 512 bytes (7 or 31 blocks per pool, so far
  //    fewer blocks fill an arena, and later deletions go further). Kept only if it still mismatches.
  {
    const coarse = cur.map((op) => {
      if (op[0] === 'a' || op[0] === 'r') {
        const n = BigInt(op[2]);
        return n >= 1n && n <= 512n ? [op[0], op[1], '512'] : op;
      }
      if (op[0] === 'c') {
        const n = BigInt(op[2]) * BigInt(op[3]);
        return n >= 1n && n <= 512n ? ['c', op[1], '1', '512'] : op;
      }
      return op;
    });
    if (coarse.some((op, i) => op !== cur[i]) && !test(coarse).same) {
      cur = coarse;
      log(`  shrink: sizes coarsened to 512 (${tests} replays)`);
    }
  }
  // 4. Delete chunks of whole block lifetimes (every op naming a group of ids), then chunks of
  //    operations, at granularity 1/2, 1/4, ... of the trace, until neither removes anything at
  //    chunk size 1 (or the budget runs out).
  const idsOf = (ops) => [...new Set(ops.map((op) => op[1]))];
  const idPass = (chunk) => {
    let ids = idsOf(cur);
    let removed = false;
    for (let start = 0; start < ids.length && budgetLeft();) {
      const drop = new Set(ids.slice(start, start + chunk));
      const cand = repair(cur.filter((op) => !drop.has(op[1])));
      if (cand.length < cur.length && !test(cand).same) {
        cur = cand;
        ids = ids.filter((id) => !drop.has(id));
        removed = true;
      } else {
        start += chunk;
      }
    }
    return removed;
  };
  const opPass = (chunk) => {
    let removed = false;
    for (let start = 0; start < cur.length && budgetLeft();) {
      const cand = repair(cur.slice(0, start).concat(cur.slice(start + chunk)));
      if (cand.length < cur.length && !test(cand).same) {
        cur = cand;
        removed = true;
      } else {
        start += chunk;
      }
    }
    return removed;
  };
  for (let k = 2; budgetLeft(); k = Math.min(k * 2, 1 << 30)) {
    const idChunk = Math.max(1, Math.floor(idsOf(cur).length / k));
    const r1 = idPass(idChunk);
    const opChunk = Math.max(1, Math.floor(cur.length / k));
    const r2 = opPass(opChunk);
    log(`  shrink: ${cur.length} ops after id groups of ${idChunk} and op chunks of ${opChunk} (${tests} replays)`);
    if (idChunk === 1 && opChunk === 1) {
      if (!r1 && !r2) break;
      k = Math.max(2, k >> 1); // stay at chunk size 1 until nothing goes
    }
  }
  // 5. Rename ids to 1, 2, 3, ... in order of appearance, if it still mismatches.
  if (budgetLeft()) {
    const names = new Map();
    const cand = cur.map((op) => {
      if (!names.has(op[1])) names.set(op[1], String(names.size + 1));
      return [op[0], names.get(op[1]), ...op.slice(2)];
    });
    if (!test(cand).same) cur = cand;
  }
  return { ops: cur, tests, note: budgetLeft() ? 'complete' : 'stopped at the shrink budget' };
}

// =============================================================================================
// Main
// =============================================================================================

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const log = (s) => { if (!opts.quiet) process.stderr.write(s + '\n'); };

  if (opts.genOnly) {
    mkdirSync(opts.genOnly, { recursive: true });
    for (const seed of opts.seedList) {
      const t = generate(seed, opts.ops, opts);
      const f = join(opts.genOnly, `seed${seed}.trace`);
      writeFileSync(f, traceText(t.ops, t.header));
      process.stdout.write(`${f}: ${t.ops.length} ops, ${t.header[0]}\n`);
    }
    return 0;
  }

  const versions = [];
  for (const v of opts.versionList) {
    const bin = join(opts.oracleDir, `replay-${v}`);
    try {
      accessSync(bin, fsc.X_OK);
      versions.push(v);
    } catch {
      process.stdout.write(`skip ${v}: oracle binary ${bin} is missing or not executable\n`);
    }
  }
  if (versions.length === 0) {
    process.stdout.write('fuzz-oracle: no oracle binary found; nothing compared\n');
    return 0;
  }

  const work = join(tmpdir(), `fuzz-oracle-${process.pid}`);
  mkdirSync(work, { recursive: true });
  let simDesc;
  if (opts.cli === null) {
    const snap = join(work, 'pyheap.mjs');
    if (opts.build) {
      let err = null;
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const { build } = await import('rolldown');
          await build({ input: join(ROOT, 'src/cli/main.ts'), platform: 'node', logLevel: 'silent', output: { file: snap, format: 'esm' } });
          err = null;
          break;
        } catch (e) {
          err = e;
          process.stderr.write(`fuzz-oracle: build failed (${String(e.message ?? e).split('\n')[0]}); retrying in 60 s\n`);
          await new Promise((r) => setTimeout(r, 60000));
        }
      }
      if (err) { process.stderr.write('fuzz-oracle: the CLI build failed\n'); rmSync(work, { recursive: true, force: true }); return 2; }
      simDesc = `fresh bundle of src (git ${gitHead()})`;
    } else {
      const bundle = join(ROOT, 'out/cli/pyheap.mjs');
      if (!existsSync(bundle)) {
        process.stderr.write('fuzz-oracle: the CLI is not built (node scripts/build-cli.mjs, or pass --build)\n');
        rmSync(work, { recursive: true, force: true });
        return 2;
      }
      copyFileSync(bundle, snap);
      simDesc = `copy of out/cli/pyheap.mjs built ${statSync(bundle).mtime.toISOString()} (git ${gitHead()})`;
    }
    opts.cli = snap;
  } else {
    simDesc = opts.cli;
  }
  process.stdout.write(`simulator: ${simDesc}\n`);
  const traceFile = join(work, 'cur.trace');
  const shrinkFile = join(work, 'shrink.trace');
  const stats = new Map(); // "v|off" -> {traces, ops, mismatches}
  for (const v of versions) for (const off of opts.offsetList) stats.set(`${v}|${off}`, { traces: 0, ops: 0, mismatches: 0 });
  let saves = 0, shrinks = 0, distinctOps = 0, ntraces = 0;
  const failures = [];
  const started = Date.now();

  const jobs = opts.replay
    ? [{ name: opts.replay.replace(/[^\w.-]+/g, '_'), get: () => ({ ops: parseTraceText(readFileSync(opts.replay, 'utf8')), header: [`replay of ${opts.replay}`] }) }]
    : opts.seedList.map((seed) => ({ name: `seed${seed}`, get: () => generate(seed, opts.ops, opts) }));

  outer: for (const job of jobs) {
    if (failures.length >= opts.stopAfter) break;
    const t = job.get();
    const text = traceText(t.ops, t.header);
    writeFileSync(traceFile, text);
    ntraces++;
    distinctOps += t.ops.length;
    let bad = 0;
    for (const v of versions) {
      for (const off of opts.offsetList) {
        if (failures.length >= opts.stopAfter) break outer;
        const st = stats.get(`${v}|${off}`);
        st.traces++;
        st.ops += t.ops.length;
        const res = compareRun(opts, v, off, traceFile);
        if (res.same) continue;
        st.mismatches++;
        bad++;
        const summary = diffSummary(res);
        const tag = `${job.name}-py${v}-off${off.replace(/,/g, '_')}`;
        failures.push(`${tag}: ${summary}`);
        log(`MISMATCH ${tag}: ${summary}`);
        if (saves >= opts.maxSaves) continue;
        saves++;
        const dir = join(opts.failDir, tag);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'trace'), text);
        writeFileSync(join(dir, 'oracle.out'), res.o.out);
        writeFileSync(join(dir, 'sim.out'), res.s.out);
        const cmd = (f) => [`${join(opts.oracleDir, `replay-${v}`)} --internals${opts.check ? ' --check' : ''} --arena-offsets ${off} < ${f}`,
          `node ${join(ROOT, 'bin/pyheap.js')} replay --python ${v} --internals --arena-offsets ${off} ${f}`,
          `(the exact simulator bundle used: node ${join(dir, 'pyheap.mjs')} replay ...)`];
        if (!existsSync(join(dir, 'pyheap.mjs'))) copyFileSync(opts.cli, join(dir, 'pyheap.mjs'));
        let info = `${tag}\nsimulator: ${simDesc}\n${summary}\noracle exit ${res.o.code}, sim exit ${res.s.code}\noracle stderr: ${res.o.err}\nsim stderr: ${res.s.err}\nreproduce:\n  ${cmd(join(dir, 'trace')).join('\n  ')}\n`;
        if ((opts.replay && !opts.shrink) || shrinks >= opts.maxShrinks) {
          writeFileSync(join(dir, 'info.txt'), info);
          continue;
        }
        shrinks++;
        log(`  shrinking ${t.ops.length} ops (${v}, offsets ${off}) ...`);
        const sh = shrink(opts, v, off, t.ops, shrinkFile, log);
        const minFile = join(dir, 'min.trace');
        writeFileSync(minFile, traceText(sh.ops));
        const mres = compareRun(opts, v, off, minFile);
        writeFileSync(join(dir, 'min.oracle.out'), mres.o.out);
        writeFileSync(join(dir, 'min.sim.out'), mres.s.out);
        const msum = mres.same ? 'minimal trace does NOT mismatch (flaky?)' : diffSummary(mres);
        info += `\nminimal trace: ${sh.ops.length} ops (${sh.tests} replays, ${sh.note})\n${msum}\nreproduce:\n  ${cmd(minFile).join('\n  ')}\n\n${traceText(sh.ops)}`;
        writeFileSync(join(dir, 'info.txt'), info);
        log(`  minimal: ${sh.ops.length} ops -> ${minFile}; ${msum}`);
      }
    }
    log(`${job.name}: ${t.ops.length} ops, ${t.header[0]} -> ${bad === 0 ? 'ok' : `${bad} mismatching runs`} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  rmSync(work, { recursive: true, force: true });

  let total = 0, totalOps = 0, totalBad = 0;
  for (const [key, st] of stats) {
    const [v, off] = key.split('|');
    process.stdout.write(`${v.padEnd(4)} offsets ${off.padEnd(17)} traces ${st.traces}  ops ${st.ops}  mismatches ${st.mismatches}\n`);
    total += st.traces;
    totalOps += st.ops;
    totalBad += st.mismatches;
  }
  process.stdout.write(`total: ${total} comparisons (${ntraces} traces x ${versions.length} versions x ${opts.offsetList.length} offset lists), ` +
    `${totalOps} ops replayed per side (${distinctOps} distinct trace ops), ${totalBad} mismatches` +
    `${totalBad > 0 ? `, saved under ${opts.failDir}` : ''}; ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return totalBad > 0 ? 1 : 0;
}

process.exitCode = await main();
