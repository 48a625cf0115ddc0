import { type IntelRange, parseCidr } from '../../../shared/intel/ranges';
import { implausible, PLAUSIBLE } from '../../../shared/intel/refresh';

const label = { category: 'cloud', name: 'test' } as const;
const cidrs = (...list: string[]): IntelRange[] => list.map((text) => parseCidr(text, label)!);
/** `count` distinct /32s from 10.0.0.0 on. */
const hosts = (count: number): IntelRange[] =>
  Array.from({ length: count }, (_, i) => ({
    family: 4 as const,
    first: 0x0a000000n + BigInt(i),
    last: 0x0a000000n + BigInt(i),
    label,
  }));

describe('intel refresh plausibility guard', () => {
  it('accepts an ordinary cloud list', () => {
    expect(implausible(cidrs('3.5.140.0/22', '52.94.0.0/16', '2600:1f00::/24', '13.0.0.0/8'))).toBeUndefined();
  });

  it('refuses a list with 0.0.0.0/0 or any prefix shorter than /8, in either family', () => {
    expect(implausible(cidrs('3.5.140.0/22', '0.0.0.0/0'))).toBe('too-wide');
    expect(implausible(cidrs('12.0.0.0/7'))).toBe('too-wide');
    expect(implausible(cidrs('::/0'))).toBe('too-wide');
    expect(implausible(cidrs('2000::/4'))).toBe('too-wide');
  });

  it('refuses a list that would classify more than a quarter of IPv4 in all', () => {
    const manyEights = Array.from({ length: 65 }, (_, i) => `${i + 1}.0.0.0/8`);
    expect(implausible(cidrs(...manyEights))).toBe('too-much');
  });

  it('refuses a list past the size cap', () => {
    expect(implausible(hosts(PLAUSIBLE.maxRanges + 1))).toBe('too-many');
    expect(implausible(hosts(5000))).toBeUndefined();
  });
});
