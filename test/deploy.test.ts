// The deployment files cannot rot silently. No images can be pulled here, so this checks what can be
// checked without them: every YAML file under deploy/ parses; the Kubernetes objects are well formed
// (selectors match their pods, probes hit /healthz and /readyz on a declared port, PodDisruptionBudgets
// select a Deployment); every command the files run is a real CLI command with real flags (asked of the
// CLI's own --help); the systemd units pass `systemd-analyze verify`; every alert names metrics the app
// declares and a runbook section that exists in docs/operations.md; every RESETGUARD_ variable the files
// set is one the service reads and the README documents.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { appMetricFamilies, balancedPromQL } from './support/prometheus-text.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}
const yamlFiles = filesUnder(DEPLOY).filter((f) => /\.ya?ml$/.test(f));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
function load(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) if (d.errors.length > 0) throw new Error(`${relative(ROOT, file)}: ${d.errors[0]!.message}`);
  return list.map((d) => d.toJS()).filter((d) => d !== null);
}

/** The CLI's own --help for a command, so the files cannot use a flag it does not have. */
const helpCache = new Map<string, string>();
function help(command: string): string {
  if (!helpCache.has(command)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), command, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_ENV: 'test' } });
    if (r.status !== 0) throw new Error(`resetguard ${command} --help exited ${r.status}: ${r.stderr}`);
    helpCache.set(command, r.stdout);
  }
  return helpCache.get(command)!;
}
function expectRealCommand(args: string[], where: string): void {
  const [command, ...rest] = args;
  expect(['serve', 'worker', 'migrate'], where).toContain(command);
  const usage = help(command!);
  for (const flag of rest.filter((a) => a.startsWith('--'))) expect(usage, `${where}: ${command} ${flag}`).toContain(flag);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return out;
}

describe('deploy/', () => {
  let families: Map<string, string>;
  beforeAll(async () => {
    families = await appMetricFamilies();
  });

  it('has YAML files that all parse', () => {
    expect(yamlFiles.length).toBeGreaterThanOrEqual(8);
    for (const f of yamlFiles) expect(load(f).length, relative(ROOT, f)).toBeGreaterThan(0);
  });

  it('has well-formed Kubernetes objects: selectors, probes, disruption budgets, real commands', () => {
    const objects = filesUnder(join(DEPLOY, 'kubernetes')).flatMap(load);
    const kinds = objects.map((o) => o.kind).sort();
    expect(kinds).toEqual(['ConfigMap', 'Deployment', 'Deployment', 'Job', 'PodDisruptionBudget', 'PodDisruptionBudget', 'Secret', 'Service']);
    for (const o of objects) {
      expect(typeof o.apiVersion, o.kind).toBe('string');
      expect(o.metadata?.name, o.kind).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    for (const d of deployments) {
      const labels = d.spec.template.metadata.labels;
      expect(labels, d.metadata.name).toMatchObject(d.spec.selector.matchLabels);
      for (const c of d.spec.template.spec.containers) {
        expectRealCommand(c.args, `${d.metadata.name}/${c.name}`);
        const ports = new Set<string | number>((c.ports ?? []).flatMap((p: Doc) => [p.name, p.containerPort]));
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
          if (!c[probe]) continue;
          expect(['/healthz', '/readyz'], `${d.metadata.name} ${probe}`).toContain(c[probe].httpGet.path);
          expect(ports.has(c[probe].httpGet.port), `${d.metadata.name} ${probe} port`).toBe(true);
        }
        expect(c.readinessProbe.httpGet.path, d.metadata.name).toBe('/readyz');
        expect(c.livenessProbe.httpGet.path, d.metadata.name).toBe('/healthz');
        expect(c.envFrom.map((e: Doc) => e.secretRef?.name ?? e.configMapRef?.name)).toEqual(['resetguard', 'resetguard']);
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      }
    }
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
      const selected = deployments.filter((d) => Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
      expect(selected.map((d) => d.metadata.name), pdb.metadata.name).toHaveLength(1);
    }
    const job = objects.find((o) => o.kind === 'Job');
    expectRealCommand(job.spec.template.spec.containers[0].args, 'migrate job');
    const secret = objects.find((o) => o.kind === 'Secret');
    expect(Object.keys(secret.stringData).sort()).toEqual(['RESETGUARD_DATABASE_URL', 'RESETGUARD_SECRET', 'RESETGUARD_SMTP_URL']);
  });

  it('gives each API and worker pod its own data volume, which is safe because uploads are spooled in the database', () => {
    const deployments = filesUnder(join(DEPLOY, 'kubernetes')).flatMap(load).filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['resetguard-api', 'resetguard-worker']);
    for (const d of deployments) {
      const data = d.spec.template.spec.volumes.find((v: Doc) => v.name === 'data');
      expect(data, d.metadata.name).toEqual({ name: 'data', emptyDir: {} });
    }
    // A per-pod emptyDir is only right while nothing one pod writes to disk is needed by another: the
    // breach-dump code (an upload received by an API pod, imported by a worker pod) must not write files.
    const dir = join(ROOT, 'src/detection/breach-dumps');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))) {
      expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/\b(writeFile|createWriteStream|mkdir|rename|appendFile)\w*\(|dataDir/);
    }
  });

  it('has a Compose file with PostgreSQL, a relay, a migration, two API processes and two workers', () => {
    const [compose] = load(join(DEPLOY, 'docker-compose.yml'));
    const services = compose.services as Record<string, Doc>;
    expect(Object.keys(services).sort()).toEqual(['api-1', 'api-2', 'grafana', 'migrate', 'postgres', 'prometheus', 'relay', 'worker']);
    for (const name of ['migrate', 'api-1', 'api-2', 'worker']) {
      expectRealCommand(services[name].command, `compose ${name}`);
      expect(services[name].environment.NODE_ENV).toBe('production');
      expect(services[name].environment.RESETGUARD_DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      for (const dep of Object.keys(services[name].depends_on ?? {})) expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
    }
    expect(services['api-1'].command).toEqual(['serve', '--no-worker']);
    expect(services.worker.deploy.replicas).toBe(2);
    expect(services.migrate.command).toEqual(['migrate']);
    expect(services['api-1'].depends_on.migrate.condition).toBe('service_completed_successfully');
    // The mounted monitoring files exist.
    for (const s of [services.prometheus, services.grafana]) {
      for (const v of s.volumes as string[]) expect(() => readFileSync(join(DEPLOY, v.split(':')[0]!)), v).not.toThrow();
    }
  });

  it('runs real commands from the systemd units, and systemd-analyze accepts them', () => {
    const dir = join(DEPLOY, 'systemd');
    const units = readdirSync(dir).filter((f) => f.endsWith('.service'));
    expect(units.sort()).toEqual(['resetguard-api.service', 'resetguard-migrate.service', 'resetguard-worker@.service']);
    for (const unit of units) {
      const text = readFileSync(join(dir, unit), 'utf8');
      const exec = /^ExecStart=\/usr\/bin\/node \/opt\/resetguard\/dist\/cli\/main\.js (.+)$/m.exec(text);
      expect(exec, unit).not.toBeNull();
      expectRealCommand(exec![1]!.replace('%i', '9464').split(' '), unit);
      expect(text, unit).toContain('EnvironmentFile=/etc/resetguard/resetguard.env');
      for (const hardening of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'CapabilityBoundingSet=', 'SystemCallFilter=@system-service']) expect(text, unit).toContain(hardening);
    }
    const which = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (which.error) return; // not installed: the structural checks above still ran
    const tmp = mkdtempSync(join(tmpdir(), 'resetguard-units-'));
    try {
      copyFileSync(join(dir, 'resetguard-api.service'), join(tmp, 'resetguard-api.service'));
      copyFileSync(join(dir, 'resetguard-migrate.service'), join(tmp, 'resetguard-migrate.service'));
      copyFileSync(join(dir, 'resetguard-worker@.service'), join(tmp, 'resetguard-worker@9464.service'));
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', './resetguard-api.service', './resetguard-migrate.service', './resetguard-worker@9464.service'], { cwd: tmp, encoding: 'utf8' });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('has alert rules on declared metrics, each pointing at a runbook section that exists', () => {
    const [rules] = load(join(DEPLOY, 'prometheus/alerts.yml'));
    const sections = anchors(readFileSync(join(ROOT, 'docs/operations.md'), 'utf8'));
    const alerts = rules.groups.flatMap((g: Doc) => g.rules);
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    for (const a of alerts) {
      expect(a.alert, JSON.stringify(a)).toMatch(/^Resetguard[A-Za-z]+$/);
      expect(['page', 'warning'], a.alert).toContain(a.labels.severity);
      expect(typeof a.annotations.summary, a.alert).toBe('string');
      const [file, anchor] = String(a.annotations.runbook).split('#');
      expect(file, a.alert).toBe('docs/operations.md');
      expect([...sections], a.alert).toContain(anchor);
      for (const m of String(a.expr).matchAll(/\bresetguard_[a-z0-9_]+/g)) expect(families.has(m[0]), `${a.alert}: ${m[0]}`).toBe(true);
      expect(balancedPromQL(String(a.expr)), a.alert).toBe(true);
    }
    const names = alerts.map((a: Doc) => a.alert);
    for (const needed of ['ResetguardKillSwitchEngaged', 'ResetguardMailRelayDown', 'ResetguardOutboxStale', 'ResetguardCampaignHalted']) expect(names).toContain(needed);
  });

  it('sets only environment variables the service reads, each documented in the README', () => {
    const configSource = readFileSync(join(ROOT, 'src/config.ts'), 'utf8');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const texts = [...filesUnder(DEPLOY), join(ROOT, 'docs/operations.md')].map((f) => [relative(ROOT, f), readFileSync(f, 'utf8')] as const);
    // RESETGUARD_VERSION is Compose's image tag, not a setting.
    const names = new Set(texts.flatMap(([, text]) => [...text.matchAll(/RESETGUARD_[A-Z0-9_]+/g)].map((m) => m[0])).filter((n) => n !== 'RESETGUARD_VERSION'));
    expect(names.size).toBeGreaterThan(10);
    for (const name of names) {
      expect(configSource, `${name} is not read by src/config.ts`).toMatch(new RegExp(`['.]${name}\\b`));
      // The README's table abbreviates families ("`RESETGUARD_DELIVERY_MAX_ATTEMPTS`, `_BACKOFF_MS`"): the
      // full name or its last part in backticks on a table row counts.
      const tail = name.replace(/^RESETGUARD_(?:[A-Z0-9]+_)?/, '_');
      const documented = readme.split('\n').some((line) => line.startsWith('| ') && (line.includes(`\`${name}\``) || line.includes(`\`${tail}\``)));
      expect(documented, `${name} is not in README → Configuration`).toBe(true);
    }
  });

  it('builds an image whose entry point is the package bin', () => {
    const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
    const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { resetguard: string } }).bin.resetguard;
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "${bin}"]`);
    expect(dockerfile).toMatch(/^USER node$/m);
    expectRealCommand(JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!), 'Dockerfile CMD');
  });
});
