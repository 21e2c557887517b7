/**
 * The web view (`GET /` on every SSE server) in a real browser: headless Chromium from Debian's
 * packages, driven over the DevTools protocol by a small client on `ws`. A real replay of the
 * bundled fixture feeds the in-process SSE server; the page reaches it through a TCP proxy on
 * loopback that the test can cut, to drop the page's connections mid-stream.
 *
 * The page's folded state is read through its documented test hook, `window.heatmapState`, and the
 * rendered grid through its cells (`td[data-key]`, text = the cell's figure).
 *
 * Chromium missing is a failure, never a skip: CI installs it (.ci/run); locally install it
 * (`apt-get install chromium`) or point CHROMIUM_PATH at a Chrome/Chromium binary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, validateConfig } from '../src/engine/config.js';
import { Format2Folder } from '../src/engine/format2-fold.js';
import { outputBytes } from '../src/engine/output-lines.js';
import type { EngineOutput, PublishedTile, VersionRecord } from '../src/engine/types.js';
import { replayRecording } from '../src/replay/replay.js';
import { SseServer } from '../src/sinks/sse.js';
import { fitNumber } from '../src/tui/format.js';
import { httpGet } from './helpers/sse-client.js';
import { MARKET_CONFIG, writeMarket } from './helpers/sse-market.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = path.join(REPO, 'fixtures', 'open-3m');
const STRATEGIES = ['single', 'vertical', 'fly'];
const VIEWPORT = { width: 1280, height: 800 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Chromium and a minimal DevTools protocol client

/** The Chromium binary: $CHROMIUM_PATH, else `chromium` / `chromium-browser` on the PATH. */
async function findChromium(): Promise<string | undefined> {
  const candidates = process.env['CHROMIUM_PATH']
    ? [process.env['CHROMIUM_PATH']]
    : (process.env['PATH'] ?? '').split(path.delimiter).flatMap((d) => ['chromium', 'chromium-browser'].map((n) => path.join(d, n)));
  for (const c of candidates) {
    try {
      await fsp.access(c, fsConstants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

interface Browser {
  readonly proc: ChildProcess;
  readonly wsUrl: string;
  readonly exited: Promise<void>;
}

async function launchChromium(profile: string): Promise<Browser> {
  const bin = await findChromium();
  if (bin === undefined) {
    throw new Error(
      'Chromium is not installed, and the web view is tested in a real browser: install it (`apt-get install chromium`, as .ci/run does) ' +
        `or set CHROMIUM_PATH${process.env['CI'] ? ' — CI must provide it' : ''}`,
    );
  }
  const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check', '--disable-background-networking', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'];
  // Its own process group: the browser's helper processes go with it in afterAll.
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let stderr = '';
  const wsUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Chromium printed no "DevTools listening on" line within 60 s:\n${stderr.slice(-2000)}`)), 60_000);
    proc.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-20_000); // keep reading: a full pipe would block it
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('error', (err) => reject(new Error(`cannot start ${bin}: ${err.message}`)));
    void exited.then(() => reject(new Error(`Chromium exited before listening (code ${proc.exitCode}):\n${stderr.slice(-2000)}`)));
  });
  return { proc, wsUrl, exited };
}

interface CdpMessage {
  readonly id?: number;
  readonly method?: string;
  readonly sessionId?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: unknown;
  readonly error?: { readonly message: string };
}

/** The DevTools protocol over one WebSocket: `send` awaits the reply, events go to listeners. */
class Cdp {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly listeners = new Set<(m: CdpMessage) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as CdpMessage;
      if (m.id !== undefined) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) p?.reject(new Error(m.error.message));
        else p?.resolve(m.result);
      } else for (const l of this.listeners) l(m);
    });
    ws.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('DevTools connection closed'));
      this.pending.clear();
    });
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Cdp(ws);
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify(sessionId === undefined ? { id, method, params } : { id, method, params, sessionId }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** One tab, attached with a flat session. */
class Page {
  constructor(
    private readonly cdp: Cdp,
    readonly sessionId: string,
  ) {}

  static async open(cdp: Cdp): Promise<Page> {
    const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(cdp, sessionId);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Emulation.setDeviceMetricsOverride', { ...VIEWPORT, deviceScaleFactor: 1, mobile: false });
    return page;
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return this.cdp.send<T>(method, params, this.sessionId);
  }

  /** Evaluates an expression in the page (promises awaited); its value, JSON-copied. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send<{ result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}\n  evaluating ${expression.slice(0, 200)}`);
    return r.result.value as T;
  }

  /** Polls `expression` until it is truthy (bounded; the last value is in the error). */
  async waitFor<T>(expression: string, what: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        last = await this.evaluate<T>(expression);
        if (last) return last as T;
      } catch (err) {
        last = err; // the page may be loading
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${String(last instanceof Error ? last.message : JSON.stringify(last)).slice(0, 500)}`);
      await sleep(100);
    }
  }

  /** Navigates and waits for the new document's page to be up (never answering from the old one). */
  async goto(url: string): Promise<void> {
    await this.evaluate('window.__replaced = true');
    await this.send('Page.navigate', { url });
    await this.waitFor('window.__replaced === undefined && typeof window.heatmapState === "object" && document.readyState === "complete"', `the page at ${url}`);
  }

  /** A real mouse click in the middle of the element. */
  async click(selector: string): Promise<void> {
    const at = await this.evaluate<{ x: number; y: number } | null>(
      `(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) return null; el.scrollIntoView({ block: 'center', inline: 'center' }); const b = el.getBoundingClientRect(); return { x: b.left + b.width / 2, y: b.top + b.height / 2 }; })()`,
    );
    if (!at) throw new Error(`no element ${selector} to click`);
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', ...at });
    await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', ...at, button: 'left', clickCount: 1 });
    await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', ...at, button: 'left', clickCount: 1 });
    await this.frame();
  }

  async key(key: string, keyCode: number): Promise<void> {
    await this.send('Input.dispatchKeyEvent', { type: 'keyDown', key, code: key, windowsVirtualKeyCode: keyCode });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code: key, windowsVirtualKeyCode: keyCode });
    await this.frame();
  }

  /** Waits for the page's next rendered frame. */
  frame(): Promise<number> {
    return this.evaluate<number>('heatmapState.frame()');
  }
}

// ---------------------------------------------------------------------------------------------
// A TCP proxy on loopback whose connections the test can cut

class CutProxy {
  private readonly sockets = new Set<net.Socket>();
  private isDown = false;

  private constructor(
    private readonly server: net.Server,
    private targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<CutProxy> {
    const server = net.createServer();
    const proxy = new CutProxy(server, targetPort);
    server.on('connection', (client) => proxy.relay(client, proxy.targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  private relay(client: net.Socket, targetPort: number): void {
    if (this.isDown) return void client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      this.sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
    }
  }

  /** Cuts every connection and refuses new ones (the network is gone). */
  down(): void {
    this.isDown = true;
    for (const s of this.sockets) s.destroy();
  }

  up(): void {
    this.isDown = false;
  }

  /**
   * Sends new connections to another port (a server restarted elsewhere). Open connections are cut:
   * the browser's idle keep-alive connections would otherwise still reach the old server.
   */
  retarget(port: number): void {
    this.targetPort = port;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------

interface PageFold {
  version: number;
  at_us: number | null;
  errors: number;
  tiles: PublishedTile[];
}
interface PageStream {
  state: string;
  opens: number;
  snapshots: number;
  diffs: number;
  resyncs: number;
  log: [string, number][];
}
interface PageView {
  strategy: string;
  series: string;
  mode: string;
  right: string;
  spot: number | undefined;
  atm: number | undefined;
}

const seriesOf = (t: PublishedTile): string => `${t.root} ${t.expiration}`;
const byKey = (a: [string, string], b: [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
/** What a cell shows in `score` mode: the terminal's figure in 6 characters. */
const scoreText = (t: PublishedTile): string => (t.score === null ? '-' : fitNumber(t.score, 6));
const CELLS = `[...document.querySelectorAll('#grid tbody td[data-key]')].map((td) => [td.dataset.key, td.textContent])`;

describe('the web view in headless Chromium', () => {
  let dir: string;
  let browser: Browser | undefined;
  let cdp: Cdp | undefined;
  let page: Page;
  let server: SseServer;
  let proxy: CutProxy;
  const requests: string[] = [];
  const lines = new Map<string, string[]>(STRATEGIES.map((s) => [s, []]));
  const last = new Map<string, number>();
  let engineSpot: number | undefined;
  let openedAt = 0;
  let cutAt = 0;
  let healedAt = 0;

  const fold = (s: string): Promise<PageFold> => page.evaluate<PageFold>(`heatmapState.fold(${JSON.stringify(s)})`);
  const stream = (s: string): Promise<PageStream> => page.evaluate<PageStream>(`heatmapState.stream(${JSON.stringify(s)})`);
  const pageView = (): Promise<PageView> => page.evaluate<PageView>('heatmapState.view()');
  const caughtUp = (s: string, version: number): Promise<unknown> =>
    page.waitFor(`(() => { const f = heatmapState.fold(${JSON.stringify(s)}); return f !== undefined && f.version === ${version}; })()`, `${s} at version ${version}`);
  /** The NDJSON fold of a strategy's format 2 lines: format 1 tiles sorted by key. */
  const ndjsonTiles = (s: string): PublishedTile[] => {
    const folder = new Format2Folder();
    for (const l of lines.get(s)!) folder.push(l);
    return folder.tiles(s);
  };

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'heatmap-web-'));
    browser = await launchChromium(path.join(dir, 'profile'));
    cdp = await Cdp.connect(browser.wsUrl);
    page = await Page.open(cdp);
    await page.send('Network.enable');
    cdp.listeners.add((m) => {
      if (m.method === 'Network.requestWillBeSent' && m.sessionId === page.sessionId) requests.push((m.params!['request'] as { url: string }).url);
    });

    server = await SseServer.start({ strategies: STRATEGIES, port: 0, format: 2, heartbeatMs: 1000 });
    proxy = await CutProxy.start(server.port);
    // The replay publishes as fast as it can; at three points it waits for the page: it opens the
    // page midway (the page starts from a snapshot), cuts the network once the page is current
    // (versions go on being published while it is away), and restores it later.
    const fly = (): number => last.get('fly') ?? 0;
    await replayRecording({
      dir: FIXTURE,
      config: defaultConfig(),
      format: 2,
      onOutput: (out, view) => {
        if (out.type === 'version') {
          lines.get(out.strategy)!.push(outputBytes(out).toString('utf8'));
          last.set(out.strategy, out.version);
          if (out.strategy === 'single') engineSpot = view.spot;
        }
        server.publish(out);
      },
      drain: () => {
        if (openedAt === 0 && fly() >= 40) {
          openedAt = fly();
          return (async () => {
            await page.goto(`${proxy.url}/?strategy=fly`);
            await caughtUp('fly', openedAt);
          })();
        }
        if (cutAt === 0 && fly() >= 150) {
          cutAt = fly();
          return (async () => {
            await caughtUp('fly', cutAt);
            proxy.down();
            await page.waitFor(`heatmapState.stream('fly').state !== 'live'`, 'the page to see the connection drop');
          })();
        }
        if (healedAt === 0 && fly() >= 250) {
          healedAt = fly();
          proxy.up();
          return (async () => {
            await caughtUp('fly', healedAt);
          })();
        }
        return undefined;
      },
    });
    server.markFinal();
    for (const s of ['fly', 'single']) await caughtUp(s, last.get(s)!);
    await page.frame();
  }, 240_000);

  afterAll(async () => {
    await proxy?.close();
    await server?.close('shutdown', 500);
    if (browser) {
      await cdp?.send('Browser.close').catch(() => undefined);
      cdp?.close();
      const isExited = await Promise.race([browser.exited.then(() => true), sleep(5000).then(() => false)]);
      if (!isExited && browser.proc.pid !== undefined) {
        try {
          process.kill(-browser.proc.pid, 'SIGKILL'); // the browser's process group, by its pid
        } catch {
          // already gone
        }
        await browser.exited;
      }
    }
    if (dir) await fsp.rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }, 60_000);

  it('GET / serves a small self-contained page: same-origin assets only, an ES module, HEAD too', async () => {
    const index = await httpGet(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect(index.body).toContain('<script type="module" src="web/app.js">');
    const refs = [...index.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => /^[a-z]+:\/\//i.test(r) || r.startsWith('//'))).toEqual([]);
    let total = Buffer.byteLength(index.body);
    for (const name of await fsp.readdir(path.join(REPO, 'web'))) {
      if (name === 'index.html') continue;
      const asset = await httpGet(`${server.url}/web/${name}`);
      expect(asset.status, name).toBe(200);
      expect(asset.headers['content-type']).toMatch(/^text\/(javascript|css)/);
      expect(asset.body).not.toMatch(/https?:\/\//);
      total += Buffer.byteLength(asset.body);
    }
    expect(total).toBeLessThan(100 * 1024);
    const head = await httpGet(`${server.url}/`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    // Everything the browser fetched came from the page's own origin.
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.filter((u) => !u.startsWith(`${proxy.url}/`) && !u.startsWith('data:'))).toEqual([]);
  });

  it('fly at the final version: the page holds the fold of the NDJSON lines, and its grid shows their scores', async () => {
    const expected = ndjsonTiles('fly');
    const f = await fold('fly');
    expect(f.version).toBe(last.get('fly'));
    expect(f.errors).toBe(0);
    expect(f.tiles).toEqual(expected);
    const v = await pageView();
    expect(v).toMatchObject({ strategy: 'fly', mode: 'score', right: 'both', series: 'SPXW 2025-11-21' });
    const shown = expected.filter((t) => seriesOf(t) === v.series);
    expect(shown.length).toBeGreaterThan(100);
    const cells = (await page.evaluate<[string, string][]>(CELLS)).sort(byKey);
    expect(cells).toEqual(shown.map((t): [string, string] => [t.key, scoreText(t)]));
    // Strike columns: every body strike, ascending.
    const strikes = await page.evaluate<string[]>(`[...document.querySelectorAll('#grid thead th')].slice(1).map((th) => th.textContent)`);
    expect(strikes).toEqual([...new Set(shown.map((t) => t.strikes[1]!))].sort((a, b) => a - b).map(String));
    // The spot implied by the single scores is the engine's; the ATM column is the strike nearest it.
    expect(engineSpot).toBeDefined();
    expect(Math.abs(v.spot! - engineSpot!)).toBeLessThan(0.05);
    const atm = strikes.map(Number).reduce((a, b) => (Math.abs(b - engineSpot!) < Math.abs(a - engineSpot!) ? b : a));
    expect(v.atm).toBe(atm);
    expect(await page.evaluate<string>(`document.querySelector('#grid thead th.atm').textContent`)).toBe(String(atm));
    expect(await page.evaluate<string>(`document.getElementById('version').textContent`)).toBe(`v${f.version}`);
    // Chromium took the stream gzip-compressed (its Accept-Encoding lists gzip), and folded it whole.
    expect(server.status().find((x) => x.name === 'fly')).toMatchObject({ clients: 1, gzip_clients: 1 });
  });

  it('a dropped connection resumes from the version held: no snapshot, no missing version', async () => {
    expect(openedAt).toBeGreaterThan(0);
    expect(healedAt - cutAt, 'versions published while the page was cut off').toBeGreaterThan(50);
    const s = await stream('fly');
    expect(s.opens, 'the page reconnected').toBeGreaterThanOrEqual(2);
    expect(s.resyncs).toBe(0);
    expect(s.log[0]).toEqual(['snapshot', openedAt]);
    const rest = s.log.slice(1);
    expect(rest.every(([kind]) => kind === 'diff')).toBe(true);
    expect(rest.map(([, v]) => v)).toEqual(Array.from({ length: last.get('fly')! - openedAt }, (_, i) => openedAt + 1 + i));
    const fly = server.status().find((x) => x.name === 'fly')!;
    expect(fly.resumes, 'the server resumed the page from its Last-Event-ID').toBeGreaterThanOrEqual(1);
  });

  it('tabs, expiries and calls/puts: the grid shows the selected strategy, expiry and right', async () => {
    await page.click('#tabs button[data-strategy="vertical"]');
    await caughtUp('vertical', last.get('vertical')!);
    await page.frame();
    const vertical = ndjsonTiles('vertical');
    expect((await fold('vertical')).tiles).toEqual(vertical);
    const series = [...new Set(vertical.map(seriesOf))].sort();
    expect(series.length).toBeGreaterThan(1);
    const expectCells = async (s: string, keep: (t: PublishedTile) => boolean): Promise<void> => {
      const want = vertical.filter((t) => seriesOf(t) === s && keep(t)).map((t): [string, string] => [t.key, scoreText(t)]);
      expect(want.length).toBeGreaterThan(0);
      expect((await page.evaluate<[string, string][]>(CELLS)).sort(byKey)).toEqual(want);
    };
    expect(await pageView()).toMatchObject({ strategy: 'vertical', series: series[0] });
    expect(await page.evaluate<string>(`document.querySelector('#grid th.corner').textContent`)).toBe('w\\K');
    await expectCells(series[0]!, () => true);

    await page.key('ArrowDown', 40); // the next expiry, as in the terminal view
    expect((await pageView()).series).toBe(series[1]);
    expect(await page.evaluate<string>(`document.getElementById('series').value`)).toBe(series[1]);
    await expectCells(series[1]!, () => true);

    await page.click('#rights button[data-right="P"]');
    await expectCells(series[1]!, (t) => t.right === 'P');
    await page.click('#rights button[data-right="both"]');

    await page.click('#tabs button[data-strategy="fly"]');
    await caughtUp('fly', last.get('fly')!);
    expect((await pageView()).strategy).toBe('fly');
    expect((await stream('vertical')).state, 'the page unsubscribes from strategies it does not show').toBe('idle');
  });

  it('hovering a tile shows its legs, value, score and confidence', async () => {
    const tile = ndjsonTiles('fly').find((t) => seriesOf(t) === 'SPXW 2025-11-24')!;
    await page.evaluate(`heatmapState.setSeries('SPXW 2025-11-24')`);
    await page.frame();
    await page.click(`#grid td[data-key="${tile.key}"]`); // a tap pins the details
    const text = await page.evaluate<string>(`document.getElementById('detail').innerText`);
    expect(text).toContain(tile.key);
    for (const l of tile.legs) expect(text).toContain(l.ticker);
    expect(text).toContain(String(tile.value));
    expect(text).toContain(String(tile.score));
  });

  it('a screenshot: a PNG of the viewport, not blank', async () => {
    await page.evaluate(`heatmapState.setSeries('SPXW 2025-11-21')`);
    await page.frame();
    const { data } = await page.send<{ data: string }>('Page.captureScreenshot', { format: 'png' });
    const png = Buffer.from(data, 'base64');
    const file = path.join(dir, 'web-view.png');
    await fsp.writeFile(file, png);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual(VIEWPORT);
    expect(png.length).toBeGreaterThan(30 * 1024);
    const coloured = await page.evaluate<number>(
      `(() => { const bg = getComputedStyle(document.body).backgroundColor; return [...document.querySelectorAll('#grid td')].filter((td) => { const c = getComputedStyle(td).backgroundColor; return c !== bg && c !== 'rgba(0, 0, 0, 0)'; }).length; })()`,
    );
    expect(coloured).toBeGreaterThan(50);
  });

  it('stale and low-confidence tiles are greyed (thresholds from the URL)', async () => {
    // Confidences are at most 1: a threshold above 1 greys every tile that is not stale.
    await page.goto(`${proxy.url}/?strategy=fly&stale_s=2&low_conf=1.01`);
    await caughtUp('fly', last.get('fly')!);
    await caughtUp('single', last.get('single')!);
    await page.frame();
    const v = await page.evaluate<PageView & { nowUs: number }>('heatmapState.view()');
    const heads = await Promise.all(['fly', 'single'].map(fold));
    expect(v.nowUs).toBe(Math.max(...heads.map((h) => h.at_us!)));
    const shown = ndjsonTiles('fly').filter((t) => seriesOf(t) === v.series);
    const stale = shown.filter((t) => v.nowUs - t.ts_us > 2e6).map((t) => t.key);
    const low = shown.filter((t) => v.nowUs - t.ts_us <= 2e6 && t.confidence < 1.01).map((t) => t.key);
    expect(stale.length).toBeGreaterThan(0);
    expect(low.length).toBeGreaterThan(0);
    const greyed = await page.evaluate<Record<string, string[]>>(
      `(() => { const by = { stale: [], low: [] }; for (const td of document.querySelectorAll('#grid td.stale, #grid td.low')) {
         if (getComputedStyle(td).backgroundColor !== 'rgb(58, 58, 58)') return { wrong: [td.dataset.key] };
         by[td.classList.contains('stale') ? 'stale' : 'low'].push(td.dataset.key); }
         by.stale.sort(); by.low.sort(); return by; })()`,
    );
    expect(greyed).toEqual({ stale: stale.sort(), low: low.sort() });
  });

  it('greys the tiles under 80 % confidence by default (the terminal view\'s threshold too)', async () => {
    await page.goto(`${proxy.url}/?strategy=fly&stale_s=1000000`); // nothing is stale
    await caughtUp('fly', last.get('fly')!);
    await caughtUp('single', last.get('single')!);
    await page.frame();
    const v = await page.evaluate<PageView & { nowUs: number }>('heatmapState.view()');
    const shown = ndjsonTiles('fly').filter((t) => seriesOf(t) === v.series);
    // Flies whose legs printed minutes apart, or were quoted wide, fall under 0.8; the rest do not.
    const low = shown.filter((t) => t.confidence < 0.8).map((t) => t.key);
    expect(low.length).toBeGreaterThan(0);
    expect(low.length).toBeLessThan(shown.length);
    const greyed = await page.evaluate<string[]>(`[...document.querySelectorAll('#grid td.low, #grid td.stale')].map((td) => td.className.includes('low') ? td.dataset.key : 'stale:' + td.dataset.key).sort()`);
    expect(greyed).toEqual(low.sort());
  });

  it('folds a format 1 stream too', async () => {
    const market = await writeMarket(path.join(dir, 'market'), { seconds: 10 });
    const f1 = await SseServer.start({ strategies: STRATEGIES, port: 0, format: 1, heartbeatMs: 1000 });
    try {
      await page.goto(`${f1.url}/?strategy=fly`);
      await page.waitFor(`heatmapState.stream('fly').state === 'live' && heatmapState.fold('fly').version === 0`, 'the format 1 snapshot');
      const tiles = new Map<string, PublishedTile>();
      let final = 0;
      await replayRecording({
        dir: market.rec,
        config: validateConfig(MARKET_CONFIG),
        onOutput: (out) => {
          if (out.type === 'version' && out.strategy === 'fly') {
            const rec = JSON.parse(outputBytes(out).toString('utf8')) as VersionRecord;
            for (const t of rec.upserts) tiles.set(t.key, t);
            final = rec.version;
          }
          f1.publish(out);
        },
      });
      expect(final).toBeGreaterThan(10);
      await caughtUp('fly', final);
      const want = [...tiles.keys()].sort().map((k) => tiles.get(k)!);
      expect((await fold('fly')).tiles).toEqual(want);
      expect((await page.evaluate<[string, string][]>(CELLS)).sort(byKey)).toEqual(want.map((t): [string, string] => [t.key, scoreText(t)]));
    } finally {
      await f1.close('shutdown', 500);
    }
  });

  it('a reconnect that lands on another run (a restarted server) starts over from a snapshot, not mixing histories', async () => {
    // Run C: a short market in format 2; the page holds its last fly version.
    const market = await writeMarket(path.join(dir, 'market-c'), { seconds: 10 });
    const c = await SseServer.start({ strategies: STRATEGIES, port: 0, format: 2, heartbeatMs: 1000 });
    // Run B: the fixture in format 1 (another hash chain), far past C's version.
    const b = await SseServer.start({ strategies: STRATEGIES, port: 0, format: 1, heartbeatMs: 1000 });
    try {
      let cFinal = 0;
      const onC = (out: EngineOutput): void => {
        if (out.type === 'version' && out.strategy === 'fly') cFinal = out.version;
        c.publish(out);
      };
      await replayRecording({ dir: market.rec, config: validateConfig(MARKET_CONFIG), format: 2, onOutput: onC });
      await replayRecording({ dir: FIXTURE, config: defaultConfig(), onOutput: (out) => b.publish(out) });
      expect(cFinal).toBeLessThan(last.get('fly')!);
      proxy.retarget(c.port);
      await page.goto(`${proxy.url}/?strategy=fly`);
      await caughtUp('fly', cFinal);
      // The network drops; when it comes back, run B answers at the same address.
      proxy.down();
      await page.waitFor(`heatmapState.stream('fly').state !== 'live'`, 'the page to see the connection drop');
      proxy.retarget(b.port);
      proxy.up();
      await caughtUp('fly', last.get('fly')!);
      // B resumed from the page's Last-Event-ID, but its first diff did not follow the hash held:
      // the page dropped it and reloaded from B's snapshot. Format 1 folds to the same tiles.
      expect((await fold('fly')).tiles).toEqual(ndjsonTiles('fly'));
      const s = await stream('fly');
      expect(s.resyncs).toBe(1);
      expect(s.log).toEqual([['snapshot', cFinal], ['snapshot', last.get('fly')]]);
      expect((await page.evaluate<{ text: string }[]>('heatmapState.notices()')).map((n) => n.text).join('\n')).toContain('from another run');
    } finally {
      proxy.retarget(server.port);
      await Promise.all([b.close('shutdown', 500), c.close('shutdown', 500)]);
    }
  });

  it('gaps, failures and the end of the stream show on the status line', async () => {
    await page.goto(`${proxy.url}/?strategy=fly`);
    await page.waitFor(`heatmapState.stream('fly').state === 'live'`, 'the stream');
    const at = 1763735500000000;
    server.publish({ type: 'gap', at_us: at, stream: 'options', from_us: at - 5_000_000, to_us: at, reason: 'disconnect' });
    await page.waitFor(`document.getElementById('status').textContent.includes('gap: no options data')`, 'the gap on the status line');
    server.publish({ type: 'error', strategy: 'fly', at_us: at, message: 'boom' });
    await page.waitFor(`document.getElementById('status').textContent.includes('fly FAILED')`, 'the failure on the status line');
    await server.close('shutdown', 2000);
    await page.waitFor(`document.getElementById('status').textContent.includes('stream ended (shutdown)')`, 'the end on the status line');
    expect((await stream('fly')).state).toBe('ended');
    const notices = await page.evaluate<{ kind: string }[]>('heatmapState.notices()');
    expect(notices.map((n) => n.kind).filter((k) => k !== 'end')).toEqual(['gap', 'failed']); // the gap once, though both streams carry it
  });
});
