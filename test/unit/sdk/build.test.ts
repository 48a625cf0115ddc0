import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSdk, SDK_MINIFIED_PATH, SDK_MODULE_PATH, sdkModule } from '../../../shared/sdk/build';
import { SDK_INTEGRITY, SDK_SCRIPT, SDK_VERSION } from '../../../shared/sdk/script';

const built = buildSdk();
const root = path.resolve(__dirname, '..', '..', '..');

describe('the minified snippet', () => {
  it('is rebuilt from sdk/clicksieve.js (run `npm run sdk:build` after changing it)', () => {
    expect(readFileSync(SDK_MODULE_PATH, 'utf8')).toBe(sdkModule(built));
    expect(readFileSync(SDK_MINIFIED_PATH, 'utf8')).toBe(built.source);
    expect(SDK_SCRIPT).toBe(built.source);
  });

  it('stays within its budget of 4 KB gzipped', () => {
    expect(gzipSync(SDK_SCRIPT, { level: 9 }).length).toBeLessThanOrEqual(4096);
  });

  it('has the integrity hash and the versioned address the READMEs give', () => {
    expect(SDK_INTEGRITY).toMatch(/^sha384-[A-Za-z0-9+/]{64}$/);
    for (const readme of ['README.md', 'sdk/README.md']) {
      const text = readFileSync(path.join(root, readme), 'utf8');
      expect(text).toContain(SDK_INTEGRITY);
      expect(text).toContain(`/v1/sdk/clicksieve-${SDK_VERSION}.js`);
    }
  });

  it('declares the version it was built from', () => {
    expect(SDK_SCRIPT.startsWith(`/*! clicksieve ${SDK_VERSION} `)).toBe(true);
    expect(SDK_SCRIPT).toContain(`"${SDK_VERSION}"`);
  });
});
