#!/usr/bin/env node

// The CLI is TypeScript; tsx compiles it on the fly so `npx clicksieve` needs no build step.
require('tsx/cjs/api').register();

const argv = process.argv.slice(2);
// `clicksieve exclusions …` talks to the deployment's API; everything else is the offline backtest.
const { main } = argv[0] === 'exclusions' ? require('../cli/exclusions.ts') : require('../cli/backtest.ts');

main(argv[0] === 'exclusions' ? argv.slice(1) : argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`clicksieve: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
