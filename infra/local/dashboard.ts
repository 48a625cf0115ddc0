import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Serves the dashboard at /dashboard/ on the local gateway, built on first request with the same
 * function the CDK stack deploys it with, and with the security headers CloudFront adds.
 */
const DASHBOARD_PATH = '/dashboard/';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

let files: Map<string, Buffer> | undefined;

function dashboardFiles(): Map<string, Buffer> {
  if (!files) {
    // Required here, not at the top: esbuild is a build tool and only the local stack needs it.
    const { dashboardInMemory } = require('../../dashboard/build') as typeof import('../../dashboard/build');
    files = dashboardInMemory(path.join(tmpdir(), `clicksieve-dashboard-${process.pid}`));
  }
  return files;
}

export const isDashboardPath = (pathname: string) => pathname === '/dashboard' || pathname.startsWith(DASHBOARD_PATH);

export function serveDashboard(req: IncomingMessage, res: ServerResponse, pathname: string): void {
  req.resume();
  if (pathname === '/dashboard') {
    res.writeHead(301, { Location: DASHBOARD_PATH, 'Content-Length': '0' });
    res.end();
    return;
  }
  const { securityHeaders } = require('../../dashboard/build') as typeof import('../../dashboard/build');
  const name = pathname.slice(DASHBOARD_PATH.length) || 'index.html';
  const body = dashboardFiles().get(name);
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': '0' });
    res.end();
    return;
  }
  if (!body) {
    const text = Buffer.from('not found');
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(text.length) });
    res.end(method === 'HEAD' ? undefined : text);
    return;
  }
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(name)] ?? 'application/octet-stream',
    'Content-Length': String(body.length),
    'Cache-Control': 'no-cache',
    ...securityHeaders(),
  });
  res.end(method === 'HEAD' ? undefined : body);
}
