// Table cells in SIMPLE_WIDE (ASCII, Latin-1, Greek, Cyrillic, CJK, kana, Hangul syllables,
// fullwidth forms) are measured without string-width: the width must be string-width's, for
// every code point of the set and for any text made of them (each is its own grapheme cluster).
import fc from 'fast-check';
import stringWidth from 'string-width';
import { displayWidth, loadDisplayWidth, SIMPLE_WIDE, TextTable } from '../../src/output/table.js';

const simple: string[] = [];
for (let c = 0x20; c <= 0xffff; c++) {
  if (c >= 0xd800 && c <= 0xdfff) continue;
  const ch = String.fromCharCode(c);
  if (SIMPLE_WIDE.test(ch)) simple.push(ch);
}

test('every code point of the set: the width string-width gives', () => {
  expect(simple.length).toBeGreaterThan(39000);
  const wrong = simple.filter((ch) => displayWidth(ch) !== stringWidth(ch)).map((ch) => ch.codePointAt(0)!.toString(16));
  expect(wrong).toEqual([]);
});

test('property: any text of the set, with or without colour codes, measures as string-width measures it', () => {
  const unit = fc.oneof(fc.constantFrom(...simple), fc.constantFrom('a', ' ', '-', '张', '伟', 'α', 'ж', '한', 'ア', 'ｱ'.normalize('NFKC'), '、', '　'));
  fc.assert(fc.property(fc.array(unit, { maxLength: 24 }), fc.boolean(), (chars, colour) => {
    const s = colour ? `\x1b[1m${chars.join('')}\x1b[22m` : chars.join('');
    expect(displayWidth(s)).toBe(stringWidth(s));
  }), { numRuns: 2000 });
});

test('outside the set (emoji, combining marks, jamo, halfwidth kana, soft hyphen) it still takes string-width', async () => {
  for (const s of ['👍', 'e\u0301', '\u1100\u1161', 'ｶﾞ', 'a\u00adb', '©', '〰', 'ﾞ']) expect(SIMPLE_WIDE.test(s)).toBe(false);
  // a table with such a cell waits for string-width; one with only CJK does not need it
  const t = new TextTable(['NAME', 'MODEL']);
  t.push(['张伟', '模型-α']);
  expect(t.toString()).toBe('NAME  MODEL\n张伟  模型-α\n');
  const u = new TextTable(['NAME']);
  u.push(['👍 ok']);
  expect(() => u.toString()).toThrow(/ready/);
  await u.ready();
  await loadDisplayWidth();
  expect(u.toString()).toBe(`NAME\n👍 ok\n`);
});
