import { INestApplication } from '@nestjs/common';

/** The parts of an OpenAPI 3 document the tests read. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
}

export interface OpenApiParameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema?: JsonSchema;
}

export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maxLength?: number;
  additionalProperties?: boolean | JsonSchema;
}

export interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
  security?: unknown[];
}

export interface RegisteredRoute {
  method: string;
  path: string;
}

export const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Routes as registered in the running app's Express router (not a hand-written list). */
export function registeredRoutes(app: INestApplication): RegisteredRoute[] {
  const express = app.getHttpAdapter().getInstance() as {
    router?: { stack: unknown[] };
    _router?: { stack: unknown[] };
  };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const out: RegisteredRoute[] = [];
  for (const layer of stack as { route?: { path: string; methods: Record<string, boolean> } }[]) {
    if (!layer.route) continue;
    for (const [method, on] of Object.entries(layer.route.methods))
      if (on && method !== '_all') out.push({ method: method.toUpperCase(), path: layer.route.path });
  }
  return out;
}

/** A middleware Nest binds to every path and method (`forRoutes('*')`, e.g. nestjs-pino's), not a handler. */
export const isMiddlewareRoute = (path: string): boolean => path.includes('{*');

/** The routes the Swagger module itself serves (the document and the UI). */
export const isDocsRoute = (path: string): boolean =>
  path === '/api/docs' || path.startsWith('/api/docs/') || path === '/api/docs-json';

/** Express `:param` as OpenAPI `{param}`. */
export const toOpenApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Every `METHOD path` of a document. */
export function documentedRoutes(doc: OpenApiDocument): RegisteredRoute[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m] !== undefined).map((m) => ({ method: m.toUpperCase(), path })),
  );
}

export async function fetchDocument(baseUrl: string): Promise<OpenApiDocument> {
  const res = await fetch(`${baseUrl}/api/docs-json`);
  if (res.status !== 200) throw new Error(`GET /api/docs-json answered ${res.status}`);
  return (await res.json()) as OpenApiDocument;
}
