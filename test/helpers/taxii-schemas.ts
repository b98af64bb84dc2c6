// The TAXII 2.1 resource schemas (test/schemas/taxii/*.json), compiled once,
// and the assertions every HTTP test uses on the wire format.
import { readFileSync, readdirSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'chai';
import { ERROR_CATALOGUE } from '../../taxii/errors.js';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
const SCHEMA_BASE = 'https://meridian.example/schemas/taxii/';
const SCHEMA_DIR = new URL('../schemas/taxii/', import.meta.url);

export type ResourceName =
  | 'discovery'
  | 'api-root'
  | 'status'
  | 'status-details'
  | 'collections'
  | 'collection'
  | 'manifest'
  | 'manifest-record'
  | 'envelope'
  | 'versions'
  | 'error';

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json')).sort()) {
  ajv.addSchema(JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as object);
}
const validators = new Map<string, ValidateFunction>();
function validator(name: ResourceName): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    v = ajv.getSchema(`${SCHEMA_BASE}${name}.json`);
    if (!v) throw new Error(`no TAXII schema named ${name}`);
    validators.set(name, v);
  }
  return v;
}
// Compile everything now: a broken schema fails the suite at load, not in one test.
for (const name of ['discovery', 'api-root', 'status', 'status-details', 'collections', 'collection', 'manifest', 'manifest-record', 'envelope', 'versions', 'error'] as const) validator(name);

/** Validates a body against a TAXII resource schema; fails the test with every violation. */
export function expectResource(name: ResourceName, body: unknown): void {
  const validate = validator(name);
  const ok = validate(body);
  expect(ok, `${name} resource invalid: ${ajv.errorsText(validate.errors, { separator: '\n  ' })}\nbody: ${JSON.stringify(body).slice(0, 2000)}`).to.equal(true);
}

/** True when the body conforms, without failing (for tests of the schemas themselves). */
export function conforms(name: ResourceName, body: unknown): boolean {
  return validator(name)(body) as boolean;
}

export const TAXII_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

interface ResponseLike {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: unknown;
}

/** §3.1: every response carries the TAXII media type with the version parameter. */
export function expectTaxiiContentType(res: ResponseLike): void {
  expect(res.headers['content-type'], 'Content-Type').to.equal(TAXII_MEDIA_TYPE);
}

/** Parses the body as JSON whatever the Content-Type (supertest only parses what it knows). */
export function json(res: ResponseLike): any {
  expect(res.text, 'response body').to.be.a('string').and.not.equal('');
  return JSON.parse(res.text);
}

/**
 * §3.6: an error response is the error resource with http_status equal to the status, an
 * error_code from our catalogue that belongs to that status, the TAXII media type, never HTML and
 * never a stack trace.
 */
export function expectError(res: ResponseLike, status: number, code?: keyof typeof ERROR_CATALOGUE): any {
  expect(res.status, `status (body: ${res.text?.slice(0, 300)})`).to.equal(status);
  expectTaxiiContentType(res);
  expect(res.text).to.not.match(/<html|<!DOCTYPE|<pre>/i);
  expect(res.text).to.not.match(/\bat [\w.<>]+ \(|node:internal|\.ts:\d+/);
  const body = json(res);
  expectResource('error', body);
  expect(body.http_status).to.equal(String(status));
  expect(body.error_code).to.match(/^TAXII_ERR_[A-Z_]+$/);
  expect(ERROR_CATALOGUE, `error_code ${body.error_code} in the catalogue`).to.have.property(body.error_code);
  expect(ERROR_CATALOGUE[body.error_code as keyof typeof ERROR_CATALOGUE].status).to.equal(status);
  if (code) expect(body.error_code).to.equal(code);
  return body;
}

/** §3.2: every 200 of manifest, objects, object and versions has both date_added headers. */
export function expectDateAddedHeaders(res: ResponseLike): { first: string; last: string } {
  const first = res.headers['x-taxii-date-added-first'];
  const last = res.headers['x-taxii-date-added-last'];
  expect(first, 'X-TAXII-Date-Added-First').to.be.a('string').and.match(TAXII_TIMESTAMP);
  expect(last, 'X-TAXII-Date-Added-Last').to.be.a('string').and.match(TAXII_TIMESTAMP);
  expect(String(first) <= String(last), 'first <= last').to.equal(true);
  return { first: String(first), last: String(last) };
}
