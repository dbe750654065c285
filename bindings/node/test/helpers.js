'use strict';
// Shared by the tests: the repository root, a reader for the golden C
// headers under tests/fixtures (generated from torch/SciPy/POT by the
// committed gen_*.py scripts), and closeness checks with the C suite's rule.
const fs = require('fs');
const path = require('path');
const assert = require('assert');

const ROOT = path.resolve(__dirname, '..', '..', '..');

// {name: number | number[]} of every `static const T name[...] = {...};` and
// `static const T name = v;` in a golden header.
function golden(file) {
  const text = fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', file), 'utf8');
  const out = {};
  const arr = /static const [a-z0-9_ ]+? (\w+)\[\d*\]\s*=\s*\{([^}]*)\};/g;
  // A float literal loses its f suffix; a hex byte (0xaf) keeps its digits.
  const num = (t) => Number(/^0x/i.test(t) ? t : t.replace(/f$/, ''));
  for (let m; (m = arr.exec(text));) out[m[1]] = m[2].split(',').filter((s) => s.trim()).map((s) => num(s.trim()));
  const scalar = /static const [a-z0-9_ ]+? (\w+)\s*=\s*([-+0-9.eE]+);/g;
  for (let m; (m = scalar.exec(text));) out[m[1]] = Number(m[2]);
  // Sizes: `enum { A = 12, B = 4 };`
  for (const m of text.matchAll(/enum \{([^}]*)\};/g)) {
    for (const [, k, v] of m[1].matchAll(/(\w+)\s*=\s*(\d+)/g)) out[k] = Number(v);
  }
  // and `#define NAME 16`.
  for (const [, k, v] of text.matchAll(/^#define (\w+) (\d+)$/gm)) out[k] = Number(v);
  return out;
}

// |got - want| <= rel * max(|want|, floor), as TLT_ASSERT_CLOSE.
function close(got, want, rel, floor = 0, what = 'value') {
  const scale = Math.max(Math.abs(want), floor);
  assert.ok(Math.abs(got - want) <= rel * scale,
    `${what} = ${got}, expected ${want} (rel err ${Math.abs(got - want) / scale} > ${rel})`);
}

module.exports = { ROOT, golden, close };
