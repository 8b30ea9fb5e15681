/**
 * Pure helpers over a parsed Kong 3.x declarative config (gateway/kong.yml), so tests can ask
 * "which public (method, path) pairs does the gateway route, to which service, behind which
 * plugins" without running Kong. No I/O here: callers parse the YAML themselves.
 *
 * Matching follows Kong's traditional_compatible router for the features kong.yml uses:
 * - a path starting with `~` is a regex, anchored at the start of the request path by Kong
 *   (our regexes end with `$`, so they match the whole path);
 * - any other path is a plain prefix match (`/a` matches `/a`, `/a/b` and `/ab`);
 * - methods are exact, upper-case; a route without methods accepts every method;
 * - matching is on the path only (the query string is ignored), case-sensitive.
 * Regex paths are evaluated with JavaScript RegExp, which agrees with Kong's PCRE for the simple
 * syntax used in kong.yml (`[^/]+`, `$`).
 */

/** Plugin configuration as written in kong.yml (only the fields that were set). */
export type KongPluginConfig = Readonly<Record<string, unknown>>;

export interface KongRoute {
  /** Name of the Kong service (upstream) the route proxies to. */
  service: string;
  /** Route name from kong.yml. */
  name: string;
  /** Upper-case HTTP methods; empty means "any method". */
  methods: string[];
  /** Paths exactly as written in kong.yml. */
  paths: string[];
  /** One RegExp equivalent to Kong's matching of all `paths` (anchored at the start). */
  pathRegex: RegExp;
  /** Names of the enabled plugins that run for this route (global, service and route level). */
  plugins: string[];
  /**
   * Effective config per plugin name. Kong runs one instance of a plugin per request and picks the
   * most specific one: route beats service beats global (consumer-scoped plugins are ignored here).
   */
  pluginConfig: Readonly<Record<string, KongPluginConfig>>;
}

type Scope = 'global' | 'service' | 'route';
const SCOPE_RANK: Record<Scope, number> = { global: 0, service: 1, route: 2 };

interface ScopedPlugin {
  name: string;
  config: KongPluginConfig;
  scope: Scope;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`kong config: ${where} must be an array`);
  return value;
}

function asString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`kong config: ${where} must be a non-empty string`);
  }
  return value;
}

function refName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value['name'] === 'string') return value['name'];
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Regex source (without the leading `^`) that behaves like Kong's matching of one route path. */
export function kongPathToRegexSource(path: string): string {
  if (path.startsWith('~')) return path.slice(1);
  return escapeRegExp(path);
}

function parsePlugins(value: unknown, where: string, scope: Scope): ScopedPlugin[] {
  const out: ScopedPlugin[] = [];
  asArray(value, where).forEach((raw, i) => {
    if (!isRecord(raw)) throw new Error(`kong config: ${where}[${i}] must be an object`);
    if (raw['enabled'] === false) return;
    const config = raw['config'] === undefined ? {} : raw['config'];
    if (!isRecord(config)) throw new Error(`kong config: ${where}[${i}].config must be an object`);
    out.push({ name: asString(raw['name'], `${where}[${i}].name`), config, scope });
  });
  return out;
}

function effective(plugins: ScopedPlugin[]): Pick<KongRoute, 'plugins' | 'pluginConfig'> {
  const chosen = new Map<string, ScopedPlugin>();
  for (const p of plugins) {
    const current = chosen.get(p.name);
    if (current === undefined || SCOPE_RANK[p.scope] > SCOPE_RANK[current.scope]) chosen.set(p.name, p);
  }
  const pluginConfig: Record<string, KongPluginConfig> = {};
  for (const [name, p] of chosen) pluginConfig[name] = p.config;
  return { plugins: [...chosen.keys()].sort(), pluginConfig };
}

/**
 * Flattens a parsed Kong declarative config into one entry per route, with its service, methods,
 * a RegExp for its paths and the plugins that apply to it. Throws on a structurally broken doc.
 */
export function kongRoutes(doc: unknown): KongRoute[] {
  if (!isRecord(doc)) throw new Error('kong config: document must be a mapping');

  // Top-level plugins are global unless they name a service or route (Kong allows both forms).
  const globalPlugins: ScopedPlugin[] = [];
  const byService = new Map<string, ScopedPlugin[]>();
  const byRoute = new Map<string, ScopedPlugin[]>();
  const topLevel = asArray(doc['plugins'], 'plugins');
  topLevel.forEach((raw, i) => {
    const [plugin] = parsePlugins([raw], `plugins[${i}]`, 'global');
    if (plugin === undefined || !isRecord(raw)) return;
    if (raw['consumer'] !== undefined && raw['consumer'] !== null) return; // consumer-scoped only
    const route = refName(raw['route']);
    const service = refName(raw['service']);
    if (route !== undefined)
      byRoute.set(route, [...(byRoute.get(route) ?? []), { ...plugin, scope: 'route' }]);
    else if (service !== undefined)
      byService.set(service, [...(byService.get(service) ?? []), { ...plugin, scope: 'service' }]);
    else globalPlugins.push(plugin);
  });

  const routes: KongRoute[] = [];
  asArray(doc['services'], 'services').forEach((svc, si) => {
    if (!isRecord(svc)) throw new Error(`kong config: services[${si}] must be an object`);
    if (svc['enabled'] === false) return;
    const service = asString(svc['name'], `services[${si}].name`);
    const servicePlugins = [
      ...parsePlugins(svc['plugins'], `services[${si}].plugins`, 'service'),
      ...(byService.get(service) ?? []),
    ];
    asArray(svc['routes'], `services[${si}].routes`).forEach((route, ri) => {
      const where = `services[${si}].routes[${ri}]`;
      if (!isRecord(route)) throw new Error(`kong config: ${where} must be an object`);
      const name = asString(route['name'], `${where}.name`);
      const paths = asArray(route['paths'], `${where}.paths`).map((p, pi) =>
        asString(p, `${where}.paths[${pi}]`),
      );
      if (paths.length === 0) throw new Error(`kong config: ${where}.paths must not be empty`);
      const methods = asArray(route['methods'], `${where}.methods`).map((m, mi) =>
        asString(m, `${where}.methods[${mi}]`).toUpperCase(),
      );
      const pathRegex = new RegExp(`^(?:${paths.map(kongPathToRegexSource).join('|')})`);
      const routePlugins = [
        ...parsePlugins(route['plugins'], `${where}.plugins`, 'route'),
        ...(byRoute.get(name) ?? []),
      ];
      routes.push({
        service,
        name,
        methods,
        paths,
        pathRegex,
        ...effective([...globalPlugins, ...servicePlugins, ...routePlugins]),
      });
    });
  });
  return routes;
}

/** The route Kong would pick for `method path`, or undefined when Kong would answer 404. */
export function findKongRoute(
  routes: readonly KongRoute[],
  method: string,
  path: string,
): KongRoute | undefined {
  const m = method.toUpperCase();
  const bare = path.split(/[?#]/, 1)[0] ?? '';
  return routes.find((r) => (r.methods.length === 0 || r.methods.includes(m)) && r.pathRegex.test(bare));
}

/** True when some route of the gateway accepts `method path` (query string ignored). */
export function matchesKongRoute(routes: readonly KongRoute[], method: string, path: string): boolean {
  return findKongRoute(routes, method, path) !== undefined;
}
