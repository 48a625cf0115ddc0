import { clickFacts, parseValueTrack } from '../../../shared/scoring';
import { fakeIntel } from './fixtures';

describe('clickFacts', () => {
  it('parses ValueTrack and UTM parameters from the landing URL and ignores unsubstituted templates', () => {
    const vt = parseValueTrack(
      'https://shop.example/landing?gclid=abc&campaignid=123&adgroupid=456&keyword=red+shoes&matchtype=e&network=g' +
        '&placement=&device=m&creative=789&utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=%7Bkeyword%7D#top',
    );
    expect(vt).toEqual({
      campaignid: '123',
      adgroupid: '456',
      keyword: 'red shoes',
      matchtype: 'e',
      network: 'g',
      device: 'm',
      creative: '789',
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_campaign: 'spring',
    });
    expect(parseValueTrack(undefined)).toEqual({});
    expect(parseValueTrack('not a url')).toEqual({});
  });

  it('derives traffic-source keys and the campaign', () => {
    const f = clickFacts(
      { propertyId: 'prop_p', ip: '203.0.113.1', pageUrl: '/l?campaignid=5&placement=site.example&network=d' },
      fakeIntel(),
    );
    expect(f.sources).toEqual([
      'campaign:5',
      'placement:site.example',
      'campaign+placement:5|site.example',
      'network:d',
    ]);
    expect(f.campaign).toBe('5');
  });
});
