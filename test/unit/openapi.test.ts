import { buildOpenApiDocument, errorStatuses, openApiDocument } from '../../shared/openapi';
import { type RouteDef, routes } from '../../shared/routes';

type Json = Record<string, unknown>;
const doc = buildOpenApiDocument() as Json & {
  paths: Record<string, Record<string, Json & { responses: Record<string, Json>; parameters: Json[] }>>;
  components: Json;
};

/** Every `$ref` in the document, with where it was found. */
function refs(node: unknown, at = '#'): [string, string][] {
  if (Array.isArray(node)) return node.flatMap((item, i) => refs(item, `${at}/${i}`));
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]): [string, string][] =>
    key === '$ref' && typeof value === 'string' ? [[value, at]] : refs(value, `${at}/${key}`),
  );
}

function resolve(pointer: string): unknown {
  return pointer
    .replace(/^#\//, '')
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (node as Json | undefined)?.[part], doc);
}

describe('OpenAPI document', () => {
  it('is an OpenAPI 3.1 document with the draft 2020-12 dialect', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(doc.info).toMatchObject({ title: 'clicksieve', version: expect.any(String) });
    expect(JSON.stringify(doc.info)).toContain('403 FORBIDDEN');
  });

  it.each(Object.entries(routes) as [string, RouteDef][])(
    'covers route %s with params, body and responses',
    (id, route) => {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation).toBeDefined();
      expect(operation!.operationId).toBe(id);
      const success = operation!.responses[String(route.success.status)] as Json;
      expect(success).toBeDefined();
      if (route.success.schema) expect(success.content).toHaveProperty(['application/json', 'schema']);
      for (const status of errorStatuses(route)) {
        expect(operation!.responses[String(status)]).toEqual({ $ref: `#/components/responses/E${status}` });
      }
      const pathNames = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = operation!.parameters.filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared.sort()).toEqual(pathNames.sort());
      if (route.query) expect(operation!.parameters.some((p) => p.in === 'query')).toBe(true);
      expect(Boolean(operation!.requestBody)).toBe(Boolean(route.body));
      expect((operation!.security as unknown[]).length > 0).toBe(route.auth.length > 0);
    },
  );

  it('has no operation that is not in the route table', () => {
    const operations = Object.values(doc.paths).flatMap((methods) => Object.keys(methods));
    expect(operations).toHaveLength(Object.keys(routes).length);
  });

  it('resolves every $ref, and every error response is the Error schema', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(50);
    for (const [ref, at] of all) {
      expect({ ref, at, resolved: resolve(ref) !== undefined }).toEqual({ ref, at, resolved: true });
    }
    const error = resolve('#/components/schemas/Error') as Json;
    expect(error).toMatchObject({ type: 'object', required: ['error', 'code', 'details'] });
    for (const status of [400, 401, 402, 403, 404, 409, 413, 415, 429, 500]) {
      expect(resolve(`#/components/responses/E${status}/content/application~1json/schema`)).toEqual({
        $ref: '#/components/schemas/Error',
      });
    }
  });

  it('uses the validation schemas: request bodies in their input shape, responses in their output shape', () => {
    const putConfig = doc.paths['/v1/properties/{id}/config']!.put!;
    const body = (putConfig.requestBody as Json).content as Record<string, { schema: { $ref: string } }>;
    const schema = resolve(body['application/json']!.schema.$ref) as Json;
    expect(schema.properties).toHaveProperty('allowlist');
    expect(schema.additionalProperties).toBe(false);
    const declared = Object.values(doc.components.securitySchemes as Json).map(
      (s) => (s as Json).name ?? (s as Json).scheme,
    );
    expect(declared).toEqual(
      expect.arrayContaining(['x-api-key', 'X-App-Key', 'X-App-Secret', 'bearer', 'x-admin-key', 'token']),
    );
  });

  it('documents the Idempotency-Key header on the routes that honour it', () => {
    const headerOf = (path: string) =>
      doc.paths[path]!.post!.parameters.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
    expect(headerOf('/v1/click')).toMatchObject({ required: false, schema: { maxLength: 256 } });
    expect(headerOf('/v1/events')).toBeDefined();
    expect(headerOf('/v1/webhook/conversion')).toBeUndefined();
    expect(JSON.stringify(doc.info)).toContain('Idempotency-Key');
  });

  it('is built once per container', () => {
    expect(openApiDocument()).toBe(openApiDocument());
  });
});
