// Configuration (docs/architecture.md §8): one schema with defaults; a config file (JSON or
// YAML), then MERIDIAN_* environment variables, then command-line flags; validated once, frozen,
// and passed around as a value.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import YAML from 'yaml';

/** An account's or organisation's own budgets (requests per minute, 0 = no limit). */
const RATE_LIMIT_FIGURES = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { readsPerMinute: { type: 'integer', minimum: 0 }, writesPerMinute: { type: 'integer', minimum: 0 } },
} as const;

export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dataDir: { type: 'string', minLength: 1, default: './data', description: 'directory of the embedded store' },
    store: { type: 'string', pattern: '^(sqlite|mongodb(\\+srv)?://.+)$', default: 'sqlite', description: 'sqlite (embedded, in dataDir) or a mongodb:// URI (env MERIDIAN_STORE)' },
    host: { type: 'string', minLength: 1, default: '127.0.0.1' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8470 },
    publicBaseUrl: { type: 'string', pattern: '^https?://[^?#]+$', description: 'base URL clients see (behind a proxy); API roots are advertised under it' },
    allowInsecureHttp: { type: 'boolean', default: false, description: 'allow plain HTTP on a non-loopback address' },
    tlsCert: { type: 'string', minLength: 1 },
    tlsKey: { type: 'string', minLength: 1 },
    trustProxy: { type: 'boolean', default: false, description: 'honour X-Forwarded-* and X-Request-Id from a reverse proxy' },
    compressionThreshold: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'boolean' }], default: 1024, description: 'responses of at least this many bytes are sent gzip/br-compressed when the client accepts it (0 or false: never)' },
    headersTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 600, default: 30, description: 'time a client has to send the request line and headers' },
    requestTimeoutSeconds: { type: 'integer', minimum: 0, maximum: 86400, default: 600, description: 'time a client has to send a whole request, body included (0 = no limit)' },
    bodyIdleTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 30, description: 'a request body with no byte for this long is answered 408 and its connection closed' },
    keepAliveTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 600, default: 65, description: 'idle keep-alive connections are closed after this long' },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    logFormat: { enum: ['json', 'pretty'], default: 'json', description: 'json lines for log collectors, or pretty for a person at a terminal' },
    title: { type: 'string', minLength: 1, default: 'Meridian TAXII 2.1 server' },
    description: { type: 'string' },
    contact: { type: 'string' },
    defaultApiRoot: { type: 'string', minLength: 1 },
    maxPageSize: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
    defaultPageSize: { type: 'integer', minimum: 1, maximum: 100000, default: 100 },
    queryScanLimit: { type: 'integer', minimum: 0, maximum: 100000000, default: 100000, description: 'stored versions one page of objects, manifest or versions may examine when its filters (a marking cap, several types, spec or exact versions) reject most; a page cut short has more and next (0 = no limit)' },
    statusRetentionHours: { type: 'number', minimum: 24, default: 24, description: 'TAXII 2.1 §4.3: at least 24 hours' },
    syncIngestLimit: { type: 'integer', minimum: 0, default: 1000, description: 'envelopes up to this many objects complete before the 202' },
    changeRetentionDays: { type: 'number', minimum: 3, default: 30, description: 'change-log entries are kept this long (at least the 72-hour webhook retry horizon); an older cursor must resync' },
    streamsPerAccount: { type: 'integer', minimum: 1, maximum: 10000, default: 10, description: 'live change streams (text/event-stream) one account may hold open' },
    streamHeartbeatSeconds: { type: 'number', minimum: 1, maximum: 300, default: 15, description: 'a comment line on idle live streams this often' },
    webhookDelivery: { type: 'boolean', default: true, description: 'this instance delivers webhooks (instances sharing a store take turns per subscription through leases)' },
    webhookLeaseSeconds: { type: 'number', minimum: 2, maximum: 3600, default: 60, description: 'a subscription\'s delivery lease lasts this long unless renewed; another instance takes over once it runs out (at least 2 × webhookTimeoutSeconds)' },
    webhookTimeoutSeconds: { type: 'number', minimum: 1, maximum: 60, default: 15, description: 'a webhook attempt succeeds on a 2xx within this time' },
    webhookRetrySeconds: { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?(\\s*,\\s*\\d+(\\.\\d+)?)*\\s*$', default: '5,300,1800,7200,18000,36000,50400,72000,86400', description: 'waits (seconds) before each retry of a failed webhook; ±10 % jitter; 429/503 Retry-After wins' },
    webhookDisableAfterHours: { type: 'number', minimum: 0, default: 72, description: 'a subscription is disabled once its last retry failed and nothing succeeded for this long' },
    webhookAllowTargets: { type: 'string', default: '', description: 'comma-separated hosts, host:port, addresses or CIDR ranges webhooks may reach although private or loopback (also over plain http)' },
    webhookCaFile: { type: 'string', minLength: 1, description: 'PEM file of extra CAs trusted for webhook receivers (private PKI)' },
    webhookConcurrency: { type: 'integer', minimum: 1, maximum: 10000, default: 64, description: 'subscriptions delivering at once' },
    webhookPollMs: { type: 'integer', minimum: 10, maximum: 60000, default: 500, description: 'how often subscriptions are checked for new events' },
    webhookLogRetentionDays: { type: 'number', minimum: 1, default: 14, description: 'webhook delivery log entries are kept this long' },
    ingestBatchSize: { type: 'integer', minimum: 1, maximum: 100000, default: 250 },
    ingestWorkerThreshold: { type: 'integer', minimum: 0, default: 262144, description: 'POST bodies of at least this many bytes are parsed and validated in a worker thread' },
    statusListLimit: { type: 'integer', minimum: 0, default: 10000, description: 'status resources list successes/failures only up to this many each' },
    scoIds: { enum: ['keep', 'fill', 'recompute'], default: 'fill', description: 'SCO ids on POST: fill missing, recompute non-deterministic, or keep' },
    apiKeyHeader: { type: 'string', pattern: '^(?![Aa][Uu][Tt][Hh][Oo][Rr][Ii][Zz][Aa][Tt][Ii][Oo][Nn]$)[A-Za-z0-9-]{1,64}$', description: 'a request header that may carry an API key alone (e.g. X-API-Key), for clients that send one there' },
    discoveryAliases: { type: 'string', pattern: '^([a-z0-9][a-z0-9._-]{0,62}(,[a-z0-9][a-z0-9._-]{0,62})*)?$', default: 'taxii', description: 'comma-separated paths that also answer as /taxii2/ (discovery), for clients that probe them; empty: none' },
    authCacheSeconds: { type: 'integer', minimum: 0, maximum: 3600, default: 60, description: 'how long a verified Basic credential is cached (0 = never)' },
    pagingSecret: { type: 'string', minLength: 32, description: 'HMAC key for next tokens; by default a random key kept in the store' },
    jwtAlgorithm: { enum: ['HS256', 'RS256', 'ES256'], default: 'HS256', description: 'the one algorithm access tokens are signed and verified with' },
    jwtSecret: { type: 'string', minLength: 32, description: 'HS256 key for access tokens; by default a random key kept in the store' },
    jwtPrivateKeyFile: { type: 'string', minLength: 1, description: 'PEM private key (RS256: RSA, ES256: P-256) signing access tokens' },
    jwtPublicKeyFile: { type: 'string', minLength: 1, description: 'PEM public key verifying access tokens (default: derived from the private key)' },
    jwtIssuer: { type: 'string', minLength: 1, default: 'meridian', description: 'iss of access tokens (issued and required)' },
    jwtAudience: { type: 'string', minLength: 1, default: 'meridian-taxii', description: 'aud of access tokens (issued and required)' },
    tokenTtlSeconds: { type: 'integer', minimum: 60, maximum: 86400, default: 900, description: 'lifetime of access tokens from POST /auth/token' },
    loginFailureLimit: { type: 'integer', minimum: 1, maximum: 10000, default: 5, description: 'failed logins of one name (since its last success) within loginWindowSeconds before it is slowed down' },
    loginAddressFailureLimit: { type: 'integer', minimum: 1, maximum: 100000, default: 20, description: 'failed logins from one address within loginWindowSeconds before it is slowed down' },
    loginWindowSeconds: { type: 'integer', minimum: 60, maximum: 86400, default: 900, description: 'window of the failed-login counts, and the longest wait (429 Retry-After)' },
    rateLimitAddressPerMinute: { type: 'integer', minimum: 0, default: 3000, description: 'requests per minute from one client address, before authentication (0 = no limit; health checks and metrics exempt)' },
    rateLimitReadsPerMinute: { type: 'integer', minimum: 0, default: 1200, description: 'GET/HEAD requests per minute by one account (0 = no limit)' },
    rateLimitWritesPerMinute: { type: 'integer', minimum: 0, default: 120, description: 'POST/DELETE requests per minute by one account (0 = no limit)' },
    rateLimitLoginsPerMinute: { type: 'integer', minimum: 0, default: 60, description: 'token requests (POST /auth/token) per minute from one address (0 = no limit)' },
    rateLimitOverrides: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'per-minute read and write budgets of named accounts and organisations, instead of the defaults (JSON in MERIDIAN_RATE_LIMIT_OVERRIDES)',
      properties: {
        accounts: { type: 'object', additionalProperties: RATE_LIMIT_FIGURES },
        organisations: { type: 'object', additionalProperties: RATE_LIMIT_FIGURES },
      },
    },
    decisionThreadNice: { type: 'integer', minimum: 0, maximum: 19, default: 19, description: 'embedded store on Linux: the priority (nice value) of the thread that makes large curation decisions; higher leaves more CPU to polls, at the cost of slower decisions and, on a saturated machine, longer waits for writers' },
    checkpointThreadNice: { type: 'integer', minimum: 0, maximum: 19, default: 0, description: 'embedded store on Linux: the priority (nice value) of the thread that copies committed pages from the WAL into the database file; higher leaves more CPU to polls while vendors\' POSTs are stored, but on a machine whose cores are all busy lets the WAL grow until a commit (an ingest\'s, on the event loop) checkpoints past the backstop (64 MiB)' },
    ingestJobsPerAccount: { type: 'integer', minimum: 0, maximum: 10000, default: 8, description: 'envelopes one account may have being processed at once; a POST beyond it gets 429 before its body is read (0 = no limit)' },
    maxConnectionsPerAddress: { type: 'integer', minimum: 0, maximum: 100000, default: 256, description: 'open connections from one client address; more are answered 429 and closed (0 = no limit; not applied with trustProxy, where every connection comes from the proxy)' },
    maxConnections: { type: 'integer', minimum: 0, maximum: 1000000, default: 10000, description: 'open connections in all; more are refused (0 = no limit)' },
    maxHeaderBytes: { type: 'integer', minimum: 1024, maximum: 1048576, default: 16384, description: 'request line and headers larger than this are answered 431' },
    corsOrigins: { type: 'string', default: '', description: 'comma-separated origins (https://console.example.org) browsers may call the API from; empty: none; * for any' },
    metricsToken: { type: 'string', minLength: 16, description: 'Bearer token Prometheus sends for /metrics from a non-loopback address (without it, only loopback may scrape)' },
    shutdownTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 30, description: 'on SIGTERM/SIGINT, how long in-flight requests and ingests may take before the process exits anyway' },
  },
} as const;

export interface Config {
  dataDir: string;
  /** "sqlite" or a mongodb:// / mongodb+srv:// URI. */
  store: string;
  host: string;
  port: number;
  publicBaseUrl?: string;
  allowInsecureHttp: boolean;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy: boolean;
  /** Bytes from which a response is compressed; 0 or false: never (true: the default, 1024). */
  compressionThreshold: number | boolean;
  headersTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  bodyIdleTimeoutSeconds: number;
  keepAliveTimeoutSeconds: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logFormat: 'json' | 'pretty';
  title: string;
  description?: string;
  contact?: string;
  defaultApiRoot?: string;
  maxPageSize: number;
  defaultPageSize: number;
  queryScanLimit: number;
  statusRetentionHours: number;
  syncIngestLimit: number;
  changeRetentionDays: number;
  streamsPerAccount: number;
  streamHeartbeatSeconds: number;
  webhookDelivery: boolean;
  webhookTimeoutSeconds: number;
  webhookRetrySeconds: string;
  webhookDisableAfterHours: number;
  webhookAllowTargets: string;
  webhookCaFile?: string;
  webhookConcurrency: number;
  webhookPollMs: number;
  webhookLeaseSeconds: number;
  webhookLogRetentionDays: number;
  ingestBatchSize: number;
  ingestWorkerThreshold: number;
  statusListLimit: number;
  scoIds: 'keep' | 'fill' | 'recompute';
  /** A header carrying an API key alone, besides Authorization; none by default. */
  apiKeyHeader?: string;
  /** Comma-separated paths that also serve discovery (e.g. "taxii"); empty for none. */
  discoveryAliases: string;
  authCacheSeconds: number;
  pagingSecret?: string;
  jwtAlgorithm: 'HS256' | 'RS256' | 'ES256';
  jwtSecret?: string;
  jwtPrivateKeyFile?: string;
  jwtPublicKeyFile?: string;
  jwtIssuer: string;
  jwtAudience: string;
  tokenTtlSeconds: number;
  loginFailureLimit: number;
  loginAddressFailureLimit: number;
  loginWindowSeconds: number;
  rateLimitAddressPerMinute: number;
  rateLimitReadsPerMinute: number;
  rateLimitWritesPerMinute: number;
  rateLimitLoginsPerMinute: number;
  /** Budgets of named accounts and organisations (an account's own win over its organisation's). */
  rateLimitOverrides: { accounts?: Record<string, RateLimitFigures>; organisations?: Record<string, RateLimitFigures> };
  ingestJobsPerAccount: number;
  decisionThreadNice: number;
  checkpointThreadNice: number;
  maxConnectionsPerAddress: number;
  maxConnections: number;
  maxHeaderBytes: number;
  /** Comma-separated origins allowed by CORS; empty for none. */
  corsOrigins: string;
  metricsToken?: string;
  shutdownTimeoutSeconds: number;
}

export interface RateLimitFigures {
  readsPerMinute?: number;
  writesPerMinute?: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ useDefaults: true, coerceTypes: true, allErrors: true, verbose: true });
const validate = ajv.compile(CONFIG_SCHEMA);

/** MERIDIAN_DATA_DIR → dataDir, for every key of the schema. */
export function envName(key: string): string {
  return `MERIDIAN_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(CONFIG_SCHEMA.properties)) {
    const value = env[envName(key)];
    if (value === undefined || value === '') continue;
    // Object-valued keys come as JSON in their variable.
    if ((CONFIG_SCHEMA.properties as Record<string, { type?: string }>)[key]!.type !== 'object') out[key] = value;
    else {
      try {
        out[key] = JSON.parse(value) as unknown;
      } catch (err) {
        throw new ConfigError(`${envName(key)} is not valid JSON: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

function fromFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    const value: unknown = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('it must hold an object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
}

/**
 * Builds the configuration: defaults < file (`--config` or MERIDIAN_CONFIG) < environment < flags.
 * Throws ConfigError with every problem listed.
 */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const file = options.file ?? env.MERIDIAN_CONFIG;
  const merged: Record<string, unknown> = {
    ...(file ? fromFile(file) : {}),
    ...fromEnv(env),
    ...Object.fromEntries(Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined)),
  };
  if (!validate(merged)) {
    const problems = (validate.errors ?? []).map((e) => {
      const where = e.instancePath ? e.instancePath.slice(1) : (e.params as { additionalProperty?: string }).additionalProperty ?? 'config';
      // An enum error alone says "must be equal to one of the allowed values"; name them.
      const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
      if (e.keyword === 'enum' && allowed) return `${where}: must be one of ${allowed.join(', ')} (got ${JSON.stringify(e.data)})`;
      return `${where}: ${e.message}`;
    });
    throw new ConfigError(`invalid configuration — ${problems.join('; ')}`);
  }
  const config = merged as unknown as Config;
  if (config.webhookLeaseSeconds < 2 * config.webhookTimeoutSeconds) throw new ConfigError('invalid configuration — webhookLeaseSeconds must be at least 2 × webhookTimeoutSeconds (an attempt must end inside the lease)');
  if (config.defaultPageSize > config.maxPageSize) throw new ConfigError('invalid configuration — defaultPageSize must not exceed maxPageSize');
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) throw new ConfigError('invalid configuration — tlsCert and tlsKey go together');
  if (config.jwtAlgorithm !== 'HS256' && !config.jwtPrivateKeyFile) throw new ConfigError(`invalid configuration — jwtAlgorithm ${config.jwtAlgorithm} needs jwtPrivateKeyFile`);
  if (config.jwtAlgorithm === 'HS256' && (config.jwtPrivateKeyFile || config.jwtPublicKeyFile)) throw new ConfigError('invalid configuration — jwtPrivateKeyFile/jwtPublicKeyFile need jwtAlgorithm RS256 or ES256');
  return Object.freeze(config);
}
