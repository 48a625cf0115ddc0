import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';

/**
 * Lets CommonJS code `require()` packages whose `exports` offer only an `import` condition (@middy/core).
 * On AWS esbuild bundles them; under jest a moduleNameMapper points at the file. Under tsx (npm start)
 * this resolves such a request to the file the `import` condition names, which Node 20.19+ loads
 * with require(esm).
 */
type Resolve = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;
type ExportTarget = string | { [condition: string]: ExportTarget } | null;

const moduleWithResolver = Module as unknown as { _resolveFilename: Resolve };
let installed = false;

export function allowRequireOfEsmOnlyPackages(): void {
  if (installed) return;
  installed = true;
  const resolve = moduleWithResolver._resolveFilename;
  moduleWithResolver._resolveFilename = function (this: unknown, request, parent, isMain, options) {
    try {
      return resolve.call(this, request, parent, isMain, options);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error;
      const target = importTarget(request, (parent as { paths?: string[] } | undefined)?.paths ?? []);
      if (!target) throw error;
      return target;
    }
  };
}

/** The file the `import` condition of the package's exports names, searched along the parent's node_modules. */
function importTarget(request: string, searchPaths: readonly string[]): string | undefined {
  const parts = request.split('/');
  const packageName = request.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const subpath = `.${request.slice(packageName.length)}`;
  const manifest = searchPaths
    .map((dir) => path.join(dir, packageName, 'package.json'))
    .find((file) => existsSync(file));
  if (!manifest) return undefined;
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, ExportTarget> };
  const file = pick(exports?.[subpath]);
  return file ? path.join(path.dirname(manifest), file) : undefined;
}

function pick(target: ExportTarget | undefined): string | undefined {
  if (!target) return undefined;
  if (typeof target === 'string') return target;
  return pick(target.node) ?? pick(target.import) ?? pick(target.default);
}
