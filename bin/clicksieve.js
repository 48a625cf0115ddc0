#!/usr/bin/env node

// The CLI is TypeScript; tsx compiles it on the fly so `npx clicksieve` needs no build step.
require('tsx/cjs/api').register();
const { main } = require('../shared/backtest/cli.ts');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`clicksieve: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
