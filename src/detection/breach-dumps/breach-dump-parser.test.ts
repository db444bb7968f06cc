import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../accounts/email.js';
import { dumpEmailKey, parseDumpLine, readDumpBatches, type DumpBatch } from './breach-dump-parser.js';

async function* chunks(bytes: Buffer, sizes: number[] = [bytes.length || 1]): AsyncGenerator<Buffer> {
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function parseAll(bytes: Buffer, opts: { sizes?: number[]; startOffset?: number; batchLines?: number; maxLineBytes?: number } = {}) {
  const batches: DumpBatch[] = [];
  const source = chunks(bytes.subarray(opts.startOffset ?? 0), opts.sizes);
  for await (const b of readDumpBatches(source, { startOffset: opts.startOffset ?? 0, batchLines: opts.batchLines ?? 3, maxLineBytes: opts.maxLineBytes ?? 4096 })) batches.push(b);
  const records = batches.flatMap((b) => b.records.map((r) => ({ email: r.email, password: r.password, start: r.start, end: r.end })));
  return {
    batches,
    records,
    lines: batches.reduce((n, b) => n + b.lines, 0),
    invalid: batches.reduce((n, b) => n + b.invalid, 0),
    end: batches.at(-1)?.endOffset ?? opts.startOffset ?? 0,
  };
}

describe('parseDumpLine', () => {
  it('splits email:password at the first colon and keeps colons and commas in the password', () => {
    expect(parseDumpLine('Alice@Example.COM:pa:ss,wo"rd')).toEqual({ kind: 'record', email: 'alice@example.com', password: 'pa:ss,wo"rd' });
    expect(parseDumpLine('bob@example.com:x\r')).toEqual({ kind: 'record', email: 'bob@example.com', password: 'x' });
    // Whitespace around a password is part of it; around the email it is not (normalizeEmail trims).
    expect(parseDumpLine(' carol@example.com : spaced ')).toEqual({ kind: 'record', email: 'carol@example.com', password: ' spaced ' });
  });

  it('reads CSV records with RFC 4180 quoting', () => {
    expect(parseDumpLine('a@example.com,secret')).toEqual({ kind: 'record', email: 'a@example.com', password: 'secret' });
    expect(parseDumpLine('"a@example.com","se,cr""et"')).toEqual({ kind: 'record', email: 'a@example.com', password: 'se,cr"et' });
    expect(parseDumpLine('a@example.com,"with:colon"')).toEqual({ kind: 'record', email: 'a@example.com', password: 'with:colon' });
    expect(parseDumpLine('a@example.com,"""quoted"""')).toEqual({ kind: 'record', email: 'a@example.com', password: '"quoted"' });
    // The first separator decides: a comma before any colon makes it CSV.
    expect(parseDumpLine('a@example.com,pass:word')).toEqual({ kind: 'record', email: 'a@example.com', password: 'pass:word' });
  });

  it('skips blank lines and names what is wrong with garbage', () => {
    expect(parseDumpLine('')).toEqual({ kind: 'blank' });
    expect(parseDumpLine('   \t\r')).toEqual({ kind: 'blank' });
    expect(parseDumpLine('no separator here')).toEqual({ kind: 'invalid', reason: 'no_separator' });
    expect(parseDumpLine('not-an-email:password')).toEqual({ kind: 'invalid', reason: 'invalid_email' });
    expect(parseDumpLine('a@@example.com:password')).toEqual({ kind: 'invalid', reason: 'invalid_email' });
    expect(parseDumpLine('a@example.com:')).toEqual({ kind: 'invalid', reason: 'empty_password' });
    expect(parseDumpLine('a@example.com,""')).toEqual({ kind: 'invalid', reason: 'empty_password' });
    expect(parseDumpLine('a@example.com,"unterminated')).toEqual({ kind: 'invalid', reason: 'bad_csv' });
    expect(parseDumpLine('a@example.com,pass,extra column')).toEqual({ kind: 'invalid', reason: 'bad_csv' });
    expect(parseDumpLine('a@example.com,pa"ss')).toEqual({ kind: 'invalid', reason: 'bad_csv' });
    expect(parseDumpLine('"a@example.com"x,pass')).toEqual({ kind: 'invalid', reason: 'bad_csv' });
    expect(parseDumpLine('"a@example.com"')).toEqual({ kind: 'invalid', reason: 'no_separator' });
  });

  it('normalizes emails exactly as normalizeEmail does, including non-ASCII ones', () => {
    expect(parseDumpLine('José@Exämple.com:pw')).toEqual({ kind: 'record', email: normalizeEmail('José@Exämple.com'), password: 'pw' });
    expect(parseDumpLine('a@xn--exmple-cua.com:pw')).toEqual({ kind: 'record', email: 'a@xn--exmple-cua.com', password: 'pw' });
    expect(parseDumpLine('a@xn--zz.com:pw')).toEqual({ kind: 'invalid', reason: 'invalid_email' });
  });
});

describe('dumpEmailKey', () => {
  const localChar = fc.constantFrom(...'abcXYZ019._%+-!#$&\'*/=?^`{|}~"(),:;<>@[\\] \tÉé\u200b'.split(''));
  const domainChar = fc.constantFrom(...'abcXYZ019.-_%é'.split(''), '.xn--', 'xn--', '--');
  const emailish = fc
    .tuple(fc.string({ unit: localChar, maxLength: 70 }), fc.constantFrom('@', '@', '@', '', '@@'), fc.string({ unit: domainChar, maxLength: 30 }), fc.constantFrom('', '.com', '.io', '.xn--p1ai', '.xn--zz', '.123', '.c'))
    .map(([l, at, d, tld]) => l + at + d + tld);

  it('agrees with normalizeEmail on every input (the fast path is only a shortcut)', () => {
    fc.assert(
      fc.property(fc.oneof(emailish, fc.string(), fc.string({ unit: 'grapheme' })), (raw) => {
        let expected: string | null;
        try {
          expected = normalizeEmail(raw);
        } catch {
          expected = null;
        }
        expect(dumpEmailKey(raw)).toBe(expected);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('readDumpBatches', () => {
  it('handles a BOM, CRLF, blank lines, a header and garbage, with exact offsets', async () => {
    const text = '\uFEFFemail,password\r\na@example.com:one\r\n\r\ngarbage line\r\n"b@example.com","t,wo"\r\nc@example.com:three';
    const bytes = Buffer.from(text, 'utf8');
    const r = await parseAll(bytes);
    expect(r.records.map((x) => [x.email, x.password])).toEqual([
      ['a@example.com', 'one'],
      ['b@example.com', 't,wo'],
      ['c@example.com', 'three'],
    ]);
    expect(r.lines).toBe(4); // the header and the blank line are not counted
    expect(r.invalid).toBe(1);
    expect(r.end).toBe(bytes.length);
    for (const rec of r.records) {
      const line = bytes.toString('utf8', rec.start, rec.end).replace(/\r?\n$/, '');
      expect(parseDumpLine(line)).toMatchObject({ email: rec.email, password: rec.password });
    }
  });

  it('counts over-long and non-UTF-8 lines as invalid without buffering them', async () => {
    const long = 'x@example.com:' + 'p'.repeat(10_000);
    const bytes = Buffer.concat([Buffer.from(`a@example.com:ok\n${long}\n`), Buffer.from([0x62, 0x40, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x3a, 0xff, 0xfe, 0x0a]), Buffer.from('c@example.com:end\n')]);
    for (const sizes of [[bytes.length], [7], [1], [100, 3]]) {
      const r = await parseAll(bytes, { sizes, maxLineBytes: 100 });
      expect(r.records.map((x) => x.email)).toEqual(['a@example.com', 'c@example.com']);
      expect(r.lines).toBe(4);
      expect(r.invalid).toBe(2);
      expect(r.end).toBe(bytes.length);
    }
  });

  it('counts a final over-long line without a line break', async () => {
    const bytes = Buffer.from('a@example.com:ok\n' + 'z'.repeat(500));
    const r = await parseAll(bytes, { sizes: [64], maxLineBytes: 100 });
    expect([r.lines, r.invalid, r.end]).toEqual([2, 1, bytes.length]);
  });

  const record = fc.record({
    email: fc.constantFrom('a@example.com', 'b.c@example.org', 'd+tag@sub.example.net', 'josé@exämple.com'),
    password: fc
      .string({ unit: fc.oneof(fc.constantFrom(':', ',', '"', ' ', '\t', 'é', '💥'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 30 })
      .filter((p) => !/[\r\n]/.test(p)),
  });
  const csvQuote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const line = fc.tuple(record, fc.constantFrom('colon', 'csv', 'csv-quoted-email')).map(([r, style]) => ({
    ...r,
    text: style === 'colon' ? `${r.email}:${r.password}` : style === 'csv' ? `${r.email},${csvQuote(r.password)}` : `${csvQuote(r.email)},${csvQuote(r.password)}`,
  }));

  it('reads back whatever it is given, at any chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ weight: 5, arbitrary: line }, { weight: 1, arbitrary: fc.constant(null) }), { maxLength: 40 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 5 }),
        async (lines, eol, bom, sizes) => {
          const text = (bom ? '\uFEFF' : '') + lines.map((l) => (l ? l.text : '')).join(eol);
          const bytes = Buffer.from(text, 'utf8');
          const r = await parseAll(bytes, { sizes });
          const expected = lines.filter((l) => l !== null).map((l) => ({ email: normalizeEmail(l!.email), password: l!.password }));
          expect(r.records.map((x) => ({ email: x.email, password: x.password }))).toEqual(expected);
          expect(r.invalid).toBe(0);
          expect(r.end).toBe(bytes.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes, counts add up, and resuming at any line end gives the same tail (property)', async () => {
    const junk = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc.array(fc.oneof(line.map((l) => l.text), fc.string(), fc.constantFrom('', '\r', '"', ':', ',', '@:', 'a@b.co:"')), { maxLength: 30 }).map((ls) => Buffer.from(ls.join('\n'))),
    );
    await fc.assert(
      fc.asyncProperty(junk, fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 4 }), fc.nat(), async (bytes, sizes, pick) => {
        const whole = await parseAll(bytes, { sizes: [bytes.length || 1], maxLineBytes: 64 });
        const chunked = await parseAll(bytes, { sizes, maxLineBytes: 64 });
        expect(chunked.records).toEqual(whole.records);
        expect([chunked.lines, chunked.invalid, chunked.end]).toEqual([whole.lines, whole.invalid, bytes.length]);
        for (const b of whole.batches) expect(b.records.length).toBe(b.lines - b.invalid);
        // Resume from the end of some line: the tail parses to exactly the records after it.
        const ends = whole.records.map((r) => r.end);
        if (ends.length > 0) {
          const at = ends[pick % ends.length]!;
          const tail = await parseAll(bytes, { sizes, startOffset: at, maxLineBytes: 64 });
          expect(tail.records).toEqual(whole.records.filter((r) => r.start >= at));
          expect(tail.end).toBe(bytes.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reports running totals per record, so any record can be a checkpoint', async () => {
    const bytes = Buffer.from(['a@example.com:1', 'junk', 'b@example.com:2', '', 'junk2', 'c@example.com:3'].join('\n'));
    const r = await parseAll(bytes, { batchLines: 100 });
    expect(r.batches).toHaveLength(1);
    expect(r.batches[0]!.records.map((x) => [x.lines, x.invalid])).toEqual([
      [1, 0],
      [3, 1],
      [5, 2],
    ]);
  });
});
