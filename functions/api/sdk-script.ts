import { apiHandler } from '../../shared/http/apiHandler';
import { notFound } from '../../shared/http/errors';
import { routes } from '../../shared/routes';
import { SDK_INTEGRITY, SDK_SCRIPT, SDK_VERSION } from '../../shared/sdk/script';

const CURRENT = 'clicksieve.js';
const PINNED = `clicksieve-${SDK_VERSION}.js`;

/**
 * The minified snippet. `clicksieve.js` follows releases (short cache, revalidated by ETag); the
 * versioned name never changes, so it is cached for a year and can carry an `integrity` attribute.
 */
export const handler = apiHandler(routes.sdkScript, async (req) => {
  const { file } = req.params;
  if (file !== CURRENT && file !== PINNED) throw notFound(`no snippet ${file}; this deployment serves ${PINNED}`);
  const etag = `"${SDK_INTEGRITY}"`;
  const headers = {
    'Cache-Control': file === PINNED ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
    ETag: etag,
    'X-Content-Type-Options': 'nosniff',
    'X-Clicksieve-Version': SDK_VERSION,
  };
  if (req.headers['if-none-match'] === etag) return { status: 304, headers };
  return { text: { contentType: 'text/javascript; charset=utf-8', body: SDK_SCRIPT }, headers };
});
