import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { msToUs, nsToUs, parseJsonLossless, quoteLongIntegers } from '../src/massive/timestamps.js';

describe('parseJsonLossless', () => {
  it('keeps a 19-digit ns timestamp exact where JSON.parse rounds it', () => {
    const text = '{"a":1689174023516476700}';
    const lossless = parseJsonLossless(text) as { a: unknown };
    expect(lossless.a).toBe('1689174023516476700');
    expect(nsToUs(lossless.a)).toBe(1689174023516476);
    // The contrast: JSON.parse holds the nearest double, which is a different integer.
    const plain = JSON.parse(text) as { a: number };
    expect(BigInt(plain.a)).not.toBe(1689174023516476700n);
    expect(BigInt(plain.a)).toBe(1689174023516476672n);
  });

  it('gets the µs right where float rounding crosses a µs boundary', () => {
    const text = '{"t":1689174023999999999}';
    expect(nsToUs((parseJsonLossless(text) as { t: unknown }).t)).toBe(1689174023999999);
    // JSON.parse rounds up into the next millisecond: the ≤ 1 µs error lossless parsing avoids.
    expect(nsToUs((JSON.parse(text) as { t: number }).t)).toBe(1689174024000000);
  });

  it('converts only 17+ digit integers, outside strings', () => {
    const text =
      '{"big":12345678901234567,"small":1234567890123456,"neg":-98765432109876543210,' +
      '"s":"12345678901234567890","esc":"say \\"12345678901234567890\\" \\\\","after":22222222222222222222}';
    expect(parseJsonLossless(text)).toEqual({
      big: '12345678901234567',
      small: 1234567890123456,
      neg: '-98765432109876543210',
      s: '12345678901234567890',
      esc: 'say "12345678901234567890" \\',
      after: '22222222222222222222',
    });
  });

  it('leaves numbers with a fraction or an exponent alone', () => {
    const text =
      '[123456789012345678.5, 1.12345678901234567890, 12345678901234567890e2, 1e+12345678901234567, ' +
      '-0.00000000000000000001, 123456789012345678E-3]';
    expect(parseJsonLossless(text)).toEqual(JSON.parse(text));
  });

  it('is JSON.parse when there are no long integers', () => {
    const text = '[{"ev":"T","sym":"O:AMC210827C00037000","p":1.54,"t":1629820676333,"q":651921857}]';
    expect(parseJsonLossless(text)).toEqual(JSON.parse(text));
  });

  it('throws SyntaxError on invalid JSON, like JSON.parse', () => {
    expect(() => parseJsonLossless('{"a":1689174023516476700')).toThrow(SyntaxError);
    expect(() => parseJsonLossless('[1,')).toThrow(SyntaxError);
  });

  it('never alters string contents, whatever characters surround long digit runs (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('"', '\\', '\\"', '12345678901234567890'))),
        fc.bigInt({ min: 10n ** 16n, max: 10n ** 25n }),
        (parts, big) => {
          const s = parts.join('');
          const text = `{"s":${JSON.stringify(s)},"n":${big},"k":[${JSON.stringify(s)},${big}]}`;
          const out = parseJsonLossless(text);
          expect(out).toEqual({ s, n: String(big), k: [s, String(big)] });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('quoteLongIntegers', () => {
  // The one-regex token scan it replaced (3× slower on chain pages): the reference it must equal,
  // on any text, valid JSON or not.
  const TOKEN_RE = /"[^"\\]*(?:\\.[^"\\]*)*"|(?<![\d.eE+-])-?\d{17,}(?![\d.eE])/g;
  const reference = (text: string): string => text.replace(TOKEN_RE, (tok) => (tok.charCodeAt(0) === 34 ? tok : `"${tok}"`));

  it('quotes exactly what one token scan with the string pattern quotes (property)', () => {
    const atom = fc.constantFrom('"', '\\', '\\"', '12345678901234567890', '-', '.', 'e', 'E', '+', '1', 'a', ' ', '\n', '\r', '\u2028', '\u2029', ':', ',', '{', '}', '"x"', '9'.repeat(17));
    fc.assert(
      fc.property(fc.array(fc.oneof(atom, fc.string({ maxLength: 3 })), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        expect(quoteLongIntegers(text)).toBe(reference(text));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('nsToUs', () => {
  it('truncates the fixture (b) ns stamps exactly', () => {
    expect(nsToUs('1651254260800059648')).toBe(1651254260800059);
    expect(nsToUs('1678718527714665700')).toBe(1678718527714665);
  });

  it('accepts a plain JS number (already rounded by JSON.parse)', () => {
    expect(nsToUs(1651204800000000000)).toBe(1651204800000000);
  });

  it('rejects ms, µs and s magnitudes as wrong units', () => {
    expect(nsToUs(1678220098130)).toBeNull(); // WS ms
    expect(nsToUs(1672434000000)).toBeNull(); // the GO fixture's ms day.last_updated
    expect(nsToUs(1678220098130000)).toBeNull(); // µs
    expect(nsToUs(1678220098)).toBeNull(); // s
    expect(nsToUs('1678220098130')).toBeNull();
  });

  it('rejects values outside 2000..2100', () => {
    expect(nsToUs('946684799999999999')).toBeNull(); // 1 ns before 2000
    expect(nsToUs('946684800000000000')).toBe(946684800000000);
    expect(nsToUs('4102444799999999999')).toBe(4102444799999999);
    expect(nsToUs('4102444800000000000')).toBeNull(); // 2100-01-01
    expect(nsToUs('9999999999999999999')).toBeNull();
  });

  it('rejects non-numeric, negative, fractional and non-finite values', () => {
    for (const bad of [
      NaN,
      Infinity,
      -1689174023516476700,
      '-1689174023516476700',
      '1689174023516476700.5',
      '1.6891740235164767e18',
      ' 1689174023516476700',
      '0689174023516476700',
      '',
      'abc',
      null,
      undefined,
      true,
      {},
      [1689174023516476700],
      1689174023516476700n,
    ]) {
      expect(nsToUs(bad), String(bad)).toBeNull();
    }
  });
});

describe('msToUs', () => {
  it('converts WS ms to µs', () => {
    expect(msToUs(1678220098130)).toBe(1678220098130000);
    expect(msToUs(1629820676333)).toBe(1629820676333000);
  });

  it('rejects ns, µs and seconds magnitudes', () => {
    expect(msToUs(1678220098)).toBeNull(); // seconds (the indices overview page's claim)
    expect(msToUs(1678220098130000)).toBeNull(); // µs
    expect(msToUs(1689174023516476700)).toBeNull(); // ns
  });

  it('rejects non-integers, strings and non-finite values', () => {
    for (const bad of [1678220098130.5, '1678220098130', NaN, Infinity, -1678220098130, null, undefined]) {
      expect(msToUs(bad), String(bad)).toBeNull();
    }
  });

  it('bounds the window at 2000..2100', () => {
    expect(msToUs(946684800000)).toBe(946684800000000);
    expect(msToUs(946684799999)).toBeNull();
    expect(msToUs(4102444800000)).toBeNull();
  });
});
