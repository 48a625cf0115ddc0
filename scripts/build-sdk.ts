import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSdk, SDK_MINIFIED_PATH, SDK_MODULE_PATH, sdkModule } from '../shared/sdk/build';

/** `npm run sdk:build`: sdk/clicksieve.js → sdk/dist/clicksieve.min.js and shared/sdk/script.ts (what the API serves). */
const built = buildSdk();
mkdirSync(path.dirname(SDK_MINIFIED_PATH), { recursive: true });
writeFileSync(SDK_MINIFIED_PATH, built.source);
writeFileSync(SDK_MODULE_PATH, sdkModule(built));
console.log(
  `clicksieve ${built.version}: ${built.source.length} bytes, ${gzipSync(built.source).length} gzipped, ${built.integrity}`,
);
