import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';

/**
 * The dashboard is static files: index.html, app.css, uplot.css and one bundled, minified app.js
 * (plain TypeScript + uPlot). `npm start` serves them at /dashboard/ and the CDK stack uploads them to
 * the dashboard bucket; both build with this function, so what is tested is what is deployed.
 */
const root = __dirname;

const DASHBOARD_FILES = ['index.html', 'app.css', 'uplot.css', 'app.js'] as const;

export function buildDashboard(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  buildSync({
    entryPoints: [path.join(root, 'src', 'main.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    outfile: path.join(outDir, 'app.js'),
    legalComments: 'none',
    logLevel: 'silent',
  });
  copyFileSync(path.join(root, 'index.html'), path.join(outDir, 'index.html'));
  copyFileSync(path.join(root, 'app.css'), path.join(outDir, 'app.css'));
  copyFileSync(require.resolve('uplot/dist/uPlot.min.css'), path.join(outDir, 'uplot.css'));
}

/** The same files in memory, for the local gateway. */
export function dashboardInMemory(outDir: string): Map<string, Buffer> {
  buildDashboard(outDir);
  return new Map(DASHBOARD_FILES.map((name) => [name, readFileSync(path.join(outDir, name))]));
}

/**
 * Response headers for every dashboard file, locally and on CloudFront: no framing, no sniffing, no
 * referrer leaving the site, and a CSP that allows only the dashboard's own files and its own API.
 */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The headers the local gateway sends; CloudFront's response headers policy sets the same (infra/constructs). */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': DASHBOARD_CSP,
    'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  };
}
