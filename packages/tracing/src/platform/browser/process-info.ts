/**
 * What a page says about itself in `insert_process`: browser and OS (UA client hints where the browser has
 * them, else the user-agent string), cores, device memory, screen, pixel ratio, the GPU renderer WebGL
 * exposes, the page's origin and path (the query string is left out: it often holds tokens), and a session id
 * kept in sessionStorage so that reloads of one tab share it. Every lookup has a fallback: browsers differ in
 * what they expose, and privacy settings hide more.
 */
import type { ProcessInfo, Properties } from '@sirius/transit';
import { clock, epochMsToNs, timeOrigin } from './clock.js';
import { uuid } from './uuid.js';

export interface BrowserInfoOptions {
  exe?: string;
  properties?: Properties;
  /** keep the page's query string in `page_path` (default false) */
  includeQuery?: boolean;
}

export interface BrowserName {
  browser: string;
  browser_version: string;
  os: string;
}

/** The property names a browser process carries (the web app shows and filters by them). */
export const BROWSER_PROPERTY_NAMES = [
  'runtime', 'browser', 'browser_version', 'os', 'cores', 'device_memory', 'screen', 'dpr', 'gpu_vendor', 'gpu_renderer',
  'page_origin', 'page_path', 'session_id', 'user_agent',
] as const;

const SESSION_KEY = 'sirius.session_id';

interface UAData {
  brands?: { brand: string; version: string }[];
  platform?: string;
}

/** Browser, version and OS from UA client hints (Chromium) or the user-agent string (Firefox, Safari). */
export function parseUserAgent(ua: string, data?: UAData): BrowserName {
  let browser = 'unknown';
  let version = '';
  const brands = data?.brands?.filter((b) => !/not.?a.?brand/i.test(b.brand)) ?? [];
  const preferred = ['Microsoft Edge', 'Opera', 'Google Chrome', 'Chromium'];
  const brand = preferred.map((p) => brands.find((b) => b.brand === p)).find((b) => b !== undefined) ?? brands[0];
  if (brand !== undefined) {
    browser = brand.brand === 'Google Chrome' ? 'Chrome' : brand.brand === 'Microsoft Edge' ? 'Edge' : brand.brand;
    version = brand.version;
  } else {
    const rules: [RegExp, string][] = [
      [/Edg(?:e|A|iOS)?\/([\d.]+)/, 'Edge'],
      [/OPR\/([\d.]+)/, 'Opera'],
      [/Firefox\/([\d.]+)/, 'Firefox'],
      [/FxiOS\/([\d.]+)/, 'Firefox'],
      [/CriOS\/([\d.]+)/, 'Chrome'],
      [/HeadlessChrome\/([\d.]+)/, 'HeadlessChrome'],
      [/Chrome\/([\d.]+)/, 'Chrome'],
      [/Version\/([\d.]+).*Safari\//, 'Safari'],
    ];
    for (const [re, name] of rules) {
      const m = re.exec(ua);
      if (m) {
        browser = name;
        version = m[1]!;
        break;
      }
    }
  }
  if (/HeadlessChrome/.test(ua) && browser === 'Chromium') browser = 'HeadlessChrome';
  return { browser, browser_version: version, os: osOf(ua, data?.platform) };
}

function osOf(ua: string, hinted: string | undefined): string {
  if (hinted) return hinted === 'macOS' ? 'macOS' : hinted;
  if (/Windows NT/.test(ua)) return 'Windows';
  if (/iPhone|iPad|iPod/.test(ua)) return 'iOS';
  if (/Mac OS X/.test(ua)) return 'macOS';
  if (/Android/.test(ua)) return 'Android';
  if (/CrOS/.test(ua)) return 'Chrome OS';
  if (/Linux/.test(ua)) return 'Linux';
  return 'unknown';
}

/** The unmasked WebGL vendor and renderer, where the browser exposes them. */
function gpu(): { vendor: string; renderer: string } | undefined {
  try {
    if (typeof document === 'undefined') return undefined;
    const gl = document.createElement('canvas').getContext('webgl') as WebGLRenderingContext | null;
    if (gl === null) return undefined;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const out = ext
      ? { vendor: String(gl.getParameter(ext.UNMASKED_VENDOR_WEBGL)), renderer: String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) }
      : { vendor: String(gl.getParameter(gl.VENDOR)), renderer: String(gl.getParameter(gl.RENDERER)) };
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return out;
  } catch {
    return undefined;
  }
}

function sessionId(): string {
  try {
    const known = sessionStorage.getItem(SESSION_KEY);
    if (known) return known;
    const id = uuid();
    sessionStorage.setItem(SESSION_KEY, id);
    return id;
  } catch {
    return uuid(); // storage disabled (sandboxed frame, privacy mode): one per page load
  }
}

export function collectBrowserInfo(o: BrowserInfoOptions = {}): ProcessInfo {
  const nowMs = clock();
  const nav = navigator as Navigator & { userAgentData?: UAData; deviceMemory?: number };
  const ua = nav.userAgent ?? '';
  const name = parseUserAgent(ua, nav.userAgentData);
  const loc = globalThis.location;
  const origin = loc?.origin ?? 'unknown';
  const path = loc === undefined ? '' : o.includeQuery ? loc.pathname + loc.search : loc.pathname;
  const g = gpu();
  const props: Properties = {
    runtime: 'browser',
    browser: name.browser,
    browser_version: name.browser_version,
    os: name.os,
    cores: String(nav.hardwareConcurrency ?? ''),
    page_origin: origin,
    page_path: path,
    session_id: sessionId(),
    user_agent: ua,
  };
  if (nav.deviceMemory !== undefined) props.device_memory = String(nav.deviceMemory);
  if (typeof screen !== 'undefined') props.screen = `${screen.width}x${screen.height}`;
  if (typeof devicePixelRatio === 'number') props.dpr = String(devicePixelRatio);
  if (g !== undefined) {
    props.gpu_vendor = g.vendor;
    props.gpu_renderer = g.renderer;
  }
  const version = name.browser_version.split('.')[0];
  return {
    process_id: uuid(),
    exe: o.exe ?? origin + path,
    username: 'browser',
    realname: 'browser',
    computer: `${name.browser}${version ? ' ' + version : ''} on ${name.os}`,
    distro: name.os,
    cpu_brand: `${nav.hardwareConcurrency ?? '?'} logical cores`,
    tsc_frequency: 1e9,
    start_time: epochMsToNs(timeOrigin() + nowMs).toString(),
    start_ticks: String(Math.round(nowMs * 1e6)),
    parent_process_id: null,
    properties: { ...props, ...o.properties },
  };
}
