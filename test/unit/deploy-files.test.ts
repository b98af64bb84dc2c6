// The deployment files (deploy/, .dockerignore) cannot be built or run here: these tests read them
// the way Docker, Compose and nginx would and pin the properties an operator relies on.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');

// ---- Dockerfile ------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions: comments dropped, backslash continuations joined, keywords upper-cased. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (pending !== '' && line.startsWith('#')) continue; // comment lines inside a continuation
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trimEnd()} `;
      continue;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full);
    if (m) out.push({ op: m[1]!.toUpperCase(), args: m[2]! });
  }
  return out;
}

/** The instructions of the last stage (the image that runs). */
function finalStage(instructions: Instruction[]): Instruction[] {
  let start = 0;
  instructions.forEach((ins, i) => {
    if (ins.op === 'FROM') start = i;
  });
  return instructions.slice(start);
}

/** The Node major of a node:<tag> image reference, undefined for anything else. */
function nodeMajor(image: string): number | undefined {
  const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:[.-]|$)/.exec(image);
  return m ? Number(m[1]) : undefined;
}

/** An even Node major from 22 on is (or was) an LTS line that is still supported. */
const isSupportedLts = (major: number | undefined) => major !== undefined && major >= 22 && major % 2 === 0;

/** The arguments of an instruction in JSON (exec) form or as whitespace-separated words. */
function words(args: string): string[] {
  if (args.startsWith('[')) return JSON.parse(args) as string[];
  return args.split(/\s+/).filter(Boolean);
}

// ---- .dockerignore ---------------------------------------------------------------------------

/** True when `relative` (a path in the build context) matches a .dockerignore pattern list. */
function dockerIgnored(patterns: string[], relative: string): boolean {
  const toRegExp = (pattern: string) => {
    const p = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
    let re = '';
    for (let i = 0; i < p.length; i++) {
      const c = p[i]!;
      if (p.startsWith('**/', i)) {
        re += '(?:.*/)?';
        i += 2;
      } else if (p.startsWith('**', i)) {
        re += '.*';
        i += 1;
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    // A pattern that names a directory excludes everything below it.
    return new RegExp(`^${re}(?:/.*)?$`);
  };
  let ignored = false;
  for (const raw of patterns) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (toRegExp(negate ? line.slice(1) : line).test(relative)) ignored = !negate;
  }
  return ignored;
}

// ---- nginx.conf ------------------------------------------------------------------------------

/** Every simple directive (`name args;`) of an nginx configuration, blocks flattened, comments dropped. */
function nginxDirectives(text: string): Array<{ name: string; args: string[] }> {
  const clean = text.replace(/#[^\n]*/g, '');
  const out: Array<{ name: string; args: string[] }> = [];
  for (const statement of clean.split(/[;{}]/)) {
    const tokens = statement.trim().match(/"[^"]*"|'[^']*'|\S+/g);
    if (tokens && tokens.length > 0) out.push({ name: tokens[0]!, args: tokens.slice(1).map((t) => t.replace(/^["']|["']$/g, '')) });
  }
  return out;
}

describe('deployment files (no container engine exists here, so the files are checked by parsing them)', function () {
  const compose = parseYaml(read('deploy/docker-compose.yml'), { merge: true }) as {
    services: Record<string, { build?: { context: string; dockerfile: string }; environment?: Record<string, unknown>; volumes?: string[]; image?: string }>;
  };
  const composeText = read('deploy/docker-compose.yml');
  const appServices = Object.entries(compose.services).filter(([, s]) => s.build?.dockerfile === 'deploy/Dockerfile');

  describe('the parsers', function () {
    it('join continuations, find the last stage and read node image majors', function () {
      const ins = parseDockerfile('# c\nFROM node:22-slim AS b\nRUN a \\\n  # inner\n  && b\nfrom node:24\nuser node\n');
      expect(ins.map((i) => i.op)).to.deep.equal(['FROM', 'RUN', 'FROM', 'USER']);
      expect(ins[1]!.args).to.equal('a && b');
      expect(finalStage(ins).map((i) => i.args)).to.deep.equal(['node:24', 'node']);
      expect([nodeMajor('node:20-bookworm-slim'), nodeMajor('node:24'), nodeMajor('node:22.12-alpine'), nodeMajor('nginx:1.27')]).to.deep.equal([20, 24, 22, undefined]);
      expect(isSupportedLts(20)).to.equal(false);
      expect(isSupportedLts(23)).to.equal(false);
      expect(isSupportedLts(24)).to.equal(true);
    });
    it('match .dockerignore patterns like Docker (directories, globs, ** and negation)', function () {
      const p = ['data/', '**/node_modules', '*.sqlite*', '.env.*', 'bench/results', '!bench/results/keep'];
      expect(dockerIgnored(p, 'data/meridian.sqlite')).to.equal(true);
      expect(dockerIgnored(p, 'node_modules/x/index.js')).to.equal(true);
      expect(dockerIgnored(p, 'a/b/node_modules/x')).to.equal(true);
      expect(dockerIgnored(p, 'x.sqlite-wal')).to.equal(true);
      expect(dockerIgnored(p, '.env.local')).to.equal(true);
      expect(dockerIgnored(p, 'bench/results/latest.json')).to.equal(true);
      expect(dockerIgnored(p, 'bench/results/keep')).to.equal(false);
      expect(dockerIgnored(p, 'server/data.ts')).to.equal(false);
      expect(dockerIgnored(p, 'metadata/x')).to.equal(false);
    });
    it('flatten nginx blocks into directives', function () {
      const d = nginxDirectives('http { gzip on; # gzip off;\n location / { proxy_set_header X-A "b c"; } }');
      expect(d).to.deep.equal([{ name: 'http', args: [] }, { name: 'gzip', args: ['on'] }, { name: 'location', args: ['/'] }, { name: 'proxy_set_header', args: ['X-A', 'b c'] }]);
    });
  });

  describe('.dockerignore at the build context of the compose file', function () {
    const contexts = [...new Set(appServices.map(([, s]) => path.resolve(REPO, 'deploy', s.build!.context)))];
    it('the app services build deploy/Dockerfile from the repository root', function () {
      expect(appServices.length).to.be.greaterThan(0);
      expect(contexts).to.deep.equal([REPO]);
    });
    const patterns = read('.dockerignore').split(/\r?\n/);
    for (const file of ['data/meridian.sqlite', 'data/meridian.sqlite-wal', 'node_modules/express/package.json', '.git/HEAD', 'dist/server/cli.js', 'meridian.sqlite', 'bench/results/latest.json', '.env', 'deploy/.env', '.env.production', 'deploy/tls/key.pem', 'server/x.cpuprofile', 'test/tmp/meridian.sqlite-shm']) {
      it(`keeps ${file} out of the image`, function () {
        expect(dockerIgnored(patterns, file)).to.equal(true);
      });
    }
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'bin/meridian.js', 'server/cli.ts', 'collections/sqlite/sqlite-store.ts', 'stix-schemas/pipeline.ts', 'taxii/service.ts']) {
      it(`sends ${file} (needed by the build)`, function () {
        expect(dockerIgnored(patterns, file)).to.equal(false);
      });
    }
  });

  describe('deploy/Dockerfile', function () {
    const all = parseDockerfile(read('deploy/Dockerfile'));
    const final = finalStage(all);
    const runs = final.filter((i) => i.op === 'RUN').map((i) => i.args);

    it('bases every stage on a supported Node LTS (22 or newer)', function () {
      const froms = all.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0]!);
      expect(froms.length).to.be.greaterThan(0);
      for (const image of froms) expect(isSupportedLts(nodeMajor(image)), image).to.equal(true);
    });
    it('creates /app/data owned by node and declares it a volume, in the image that runs', function () {
      expect(runs.some((r) => /mkdir\s+(-p\s+)?\/app\/data\b/.test(r) && /chown\s+(-R\s+)?node(:node)?\s+\/app\/data\b/.test(r)), runs.join('\n')).to.equal(true);
      const volumes = final.filter((i) => i.op === 'VOLUME').flatMap((i) => words(i.args));
      expect(volumes).to.include('/app/data');
      const chown = final.findIndex((i) => i.op === 'RUN' && /chown[^&]*\/app\/data/.test(i.args));
      const volume = final.findIndex((i) => i.op === 'VOLUME');
      // Changes under a path after VOLUME declares it are discarded.
      expect(chown).to.be.lessThan(volume);
    });
    it('runs as the unprivileged node user', function () {
      const users = final.filter((i) => i.op === 'USER').map((i) => i.args.trim());
      expect(users.at(-1)).to.equal('node');
    });
    it('uses the data directory it prepared', function () {
      const env = final.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
      const dir = /MERIDIAN_DATA_DIR=(\S+)/.exec(env)?.[1];
      const workdir = final.filter((i) => i.op === 'WORKDIR').at(-1)?.args;
      expect(dir ?? path.posix.join(workdir ?? '/', 'data')).to.equal('/app/data');
    });
    it('keeps compilers and dev dependencies out of the image that runs', function () {
      expect(runs.join(' ')).not.to.match(/\bg\+\+|\bmake\b|python3/);
      const copies = final.filter((i) => i.op === 'COPY').map((i) => i.args);
      expect(copies.some((c) => /^\.\s|\s\.\s/.test(c) && !c.includes('--from'))).to.equal(false);
      const deps = all.filter((i) => i.op === 'RUN' && /npm ci/.test(i.args) && /--omit=dev/.test(i.args));
      expect(deps.length, 'a stage installs production dependencies only').to.be.greaterThan(0);
    });
    it('installs the validator workspace and ships it built beside the server (imported as stix2-validator-ts)', function () {
      for (const stage of all.reduce<Instruction[][]>((stages, i) => (i.op === 'FROM' ? [...stages, [i]] : (stages.at(-1)!.push(i), stages)), [])) {
        const ci = stage.findIndex((i) => i.op === 'RUN' && /npm ci/.test(i.args));
        if (ci < 0) continue;
        const manifest = stage.findIndex((i) => i.op === 'COPY' && /stix-schemas\/package\.json/.test(i.args));
        expect(manifest, `${stage[0]!.args}: stix-schemas/package.json before npm ci`).to.be.within(0, ci);
      }
      const copies = final.filter((i) => i.op === 'COPY').map((i) => i.args);
      for (const part of ['stix-schemas/package.json', 'stix-schemas/dist']) expect(copies.some((c) => c.includes('--from') && c.includes(`/app/${part}`)), part).to.equal(true);
    });
    it('checks its health on /healthz', function () {
      const hc = final.filter((i) => i.op === 'HEALTHCHECK');
      expect(hc).to.have.length(1);
      expect(hc[0]!.args).to.include('/healthz');
    });
  });

  describe('deploy/docker-compose.yml', function () {
    it('its first-admin command pipes the password into `exec -T … account add --password-stdin`', function () {
      const header = composeText.split('\n').filter((l) => l.startsWith('#')).join('\n');
      const line = header.split('\n').find((l) => /account add/.test(l));
      expect(line, 'a first-admin command in the header').to.be.a('string');
      expect(line).to.match(/\|\s*docker compose\b.*\bexec\s+-T\s+(\S+)\s+node bin\/meridian\.js account add \S+ .*--password-stdin/);
      expect(line).to.match(/--role admin\b/);
      const service = /exec\s+-T\s+(\S+)/.exec(line!)![1]!;
      expect(appServices.map(([name]) => name)).to.include(service);
    });
    it('the app services trust the proxy and store their data where the image expects it', function () {
      expect(appServices.length).to.be.greaterThan(0);
      for (const [name, s] of appServices) {
        expect(String(s.environment?.MERIDIAN_TRUST_PROXY), `${name} MERIDIAN_TRUST_PROXY`).to.equal('true');
        const store = String(s.environment?.MERIDIAN_STORE ?? 'sqlite');
        if (store === 'sqlite') {
          // The embedded store: its file must be on a named volume, not in the container.
          expect((s.volumes ?? []).some((v) => /^[^/.][^:]*:\/app\/data(:|$)/.test(v)), `${name} mounts a volume at /app/data`).to.equal(true);
        } else {
          expect(store, `${name} store`).to.match(/^mongodb(\+srv)?:\/\//);
        }
      }
    });
  });

  describe('deploy/nginx.conf', function () {
    const d = nginxDirectives(read('deploy/nginx.conf'));
    const one = (name: string) => d.filter((x) => x.name === name);

    it('compresses the TAXII and STIX media types, also for proxied responses', function () {
      expect(one('gzip').map((x) => x.args)).to.deep.equal([['on']]);
      const types = one('gzip_types').flatMap((x) => x.args);
      for (const t of ['application/taxii+json', 'application/stix+json', 'application/json']) expect(types).to.include(t);
      expect(one('gzip_proxied').flatMap((x) => x.args)).to.include('any');
      expect(Number(one('gzip_min_length')[0]?.args[0])).to.be.greaterThan(0);
    });
    it('passes a request id and the forwarded client address and scheme upstream', function () {
      const headers = new Map(one('proxy_set_header').map((x) => [x.args[0]!.toLowerCase(), x.args[1]]));
      expect(headers.get('x-request-id')).to.match(/^\$/);
      expect(headers.get('x-forwarded-for')).to.match(/^\$/);
      expect(headers.get('x-forwarded-proto')).to.equal('https');
    });
    it('proxies to every app service of the compose file', function () {
      const servers = one('server').filter((x) => x.args.length > 0).map((x) => x.args[0]!.split(':')[0]);
      expect(servers.sort()).to.deep.equal(appServices.map(([name]) => name).sort());
    });
  });
});
