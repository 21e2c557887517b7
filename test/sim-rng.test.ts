import { describe, expect, it } from 'vitest';
import { Rng, deriveRng } from '../src/sim/rng.js';

function draws(rng: Rng, n: number, f: (r: Rng) => number): number[] {
  return Array.from({ length: n }, () => f(rng));
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: number[]): number => {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1);
};

describe('Rng', () => {
  it('repeats exactly for the same seed and label, and differs otherwise', () => {
    const a = draws(new Rng(42, 'x'), 50, (r) => r.nextU32());
    expect(draws(new Rng(42, 'x'), 50, (r) => r.nextU32())).toEqual(a);
    expect(draws(new Rng(43, 'x'), 50, (r) => r.nextU32())).not.toEqual(a);
    expect(draws(deriveRng(42, 'y'), 50, (r) => r.nextU32())).not.toEqual(a);
  });

  it('folds seeds above 2^32 instead of ignoring their high bits', () => {
    const lo = draws(new Rng(5), 5, (r) => r.nextU32());
    expect(draws(new Rng(5 + 2 ** 32), 5, (r) => r.nextU32())).not.toEqual(lo);
  });

  it('pins the first outputs of seed 1 (a change here changes every simulated recording)', () => {
    const r = new Rng(1, 'pin');
    expect([r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([2332350099, 2495292857, 3585614445]);
  });

  it('draws uniforms in [0, 1) and integers in range', () => {
    const r = new Rng(7);
    const u = draws(r, 20_000, (x) => x.uniform());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(mean(u)).toBeCloseTo(0.5, 1);
    const ints = draws(r, 5000, (x) => x.intBetween(3, 5));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
  });

  it('has the right first two moments for normal, exponential and Poisson draws', () => {
    const r = new Rng(11);
    const z = draws(r, 40_000, (x) => x.normal());
    expect(Math.abs(mean(z))).toBeLessThan(0.03);
    expect(variance(z)).toBeGreaterThan(0.95);
    expect(variance(z)).toBeLessThan(1.05);
    const e = draws(r, 40_000, (x) => x.exponential(3));
    expect(mean(e)).toBeGreaterThan(2.9);
    expect(mean(e)).toBeLessThan(3.1);
    for (const lambda of [0.5, 4, 75]) {
      const p = draws(r, 20_000, (x) => x.poisson(lambda));
      expect(p.every((k) => Number.isInteger(k) && k >= 0)).toBe(true);
      expect(Math.abs(mean(p) - lambda)).toBeLessThan(0.05 * lambda + 0.02);
      expect(Math.abs(variance(p) - lambda)).toBeLessThan(0.1 * lambda + 0.05);
    }
    expect(r.poisson(0)).toBe(0);
  });

  it('makes 32-hex-digit request ids', () => {
    expect(new Rng(3).hex32()).toMatch(/^[0-9a-f]{32}$/);
  });
});
