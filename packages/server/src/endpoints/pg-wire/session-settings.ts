/**
 * Per-connection settings: the run-time parameters drivers set and read at connect (DateStyle,
 * client_encoding, extra_float_digits…) and the Sirius time range (`sirius.begin`, `sirius.end`).
 * Standard settings are remembered and echoed, never enforced: the gateway always speaks UTF-8, ISO dates
 * and UTC. Parameters PostgreSQL reports with ParameterStatus are reported again when changed.
 *
 * @example
 *   const s = new SessionSettings({ begin: '24h', end: 'now' });
 *   s.set('sirius.begin', '2024-05-01T00:00:00Z');
 *   s.range() // { begin: '2024-05-01T00:00:00Z', end: 'now' }
 */
import { parseTimeArg, TimeArgError } from '@sirius/client';

export const SERVER_VERSION = '15.0 (Sirius)';
export const VERSION_STRING = `PostgreSQL ${SERVER_VERSION} on x86_64-pc-linux-gnu, a PostgreSQL wire gateway to the Sirius query engine (DuckDB)`;

export class SettingError extends Error {
  override readonly name = 'SettingError';
  constructor(
    message: string,
    /** SQLSTATE */
    readonly sqlState = '22023',
  ) {
    super(message);
  }
}

export interface TimeRangeText {
  /** ISO-8601 instant, "now", or a duration back from now such as "1h" */
  begin: string;
  end: string;
}

/** the parameters a server reports in ParameterStatus, by their display name */
const REPORTED = ['server_version', 'server_encoding', 'client_encoding', 'application_name', 'DateStyle', 'IntervalStyle',
  'integer_datetimes', 'standard_conforming_strings', 'TimeZone', 'is_superuser', 'session_authorization'];

const DEFAULTS: Record<string, string> = {
  server_version: SERVER_VERSION,
  server_version_num: '150000',
  server_encoding: 'UTF8',
  client_encoding: 'UTF8',
  application_name: '',
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  integer_datetimes: 'on',
  standard_conforming_strings: 'on',
  TimeZone: 'UTC',
  is_superuser: 'off',
  session_authorization: 'sirius',
  search_path: '"$user", public',
  extra_float_digits: '1',
  max_identifier_length: '63',
  transaction_isolation: 'read committed',
  default_transaction_isolation: 'read committed',
  transaction_read_only: 'on',
  default_transaction_read_only: 'on',
  statement_timeout: '0',
  lc_messages: 'C',
  lc_monetary: 'C',
  lc_numeric: 'C',
  lc_time: 'C',
  bytea_output: 'hex',
  'sirius.begin': '',
  'sirius.end': '',
};

const canonical = new Map(Object.keys(DEFAULTS).map((k) => [k.toLowerCase(), k]));

export class SessionSettings {
  private readonly values = new Map<string, string>();

  constructor(readonly defaultRange: TimeRangeText, user = 'sirius') {
    for (const [k, v] of Object.entries(DEFAULTS)) this.values.set(k.toLowerCase(), v);
    this.values.set('sirius.begin', defaultRange.begin);
    this.values.set('sirius.end', defaultRange.end);
    this.values.set('session_authorization', user);
  }

  /** the display name for a parameter (`datestyle` → `DateStyle`) */
  displayName(name: string): string {
    return canonical.get(name.toLowerCase()) ?? name.toLowerCase();
  }

  get(name: string): string | undefined {
    return this.values.get(name.toLowerCase());
  }

  /** every setting as [name, value], for SHOW ALL */
  all(): [string, string][] {
    return [...this.values].map(([k, v]) => [this.displayName(k), v]);
  }

  /**
   * Sets a parameter; returns its display name when the client should get a ParameterStatus for it.
   * `sirius.begin` / `sirius.end` must be times the engine can read.
   */
  set(name: string, value: string): string | undefined {
    const key = name.toLowerCase();
    if (key === 'sirius.begin' || key === 'sirius.end') {
      try {
        parseTimeArg(value);
      } catch (err) {
        if (err instanceof TimeArgError) throw new SettingError(`invalid value for ${key}: ${err.message}`);
        throw err;
      }
    } else if (key.startsWith('sirius.')) {
      throw new SettingError(`unrecognized configuration parameter "${name}" (Sirius has sirius.begin and sirius.end)`, '42704');
    }
    if (key === 'client_encoding' && !isUtf8Name(value)) {
      throw new SettingError(`invalid value for parameter "client_encoding": "${value}": the gateway only speaks UTF8`, '22023');
    }
    this.values.set(key, key === 'client_encoding' ? 'UTF8' : value);
    const display = this.displayName(key);
    return REPORTED.includes(display) ? display : undefined;
  }

  reset(name: string): string | undefined {
    const key = name.toLowerCase();
    if (key === 'sirius.begin' || key === 'sirius.end') {
      this.values.set(key, key === 'sirius.begin' ? this.defaultRange.begin : this.defaultRange.end);
      return undefined;
    }
    const display = this.displayName(key);
    const def = DEFAULTS[display];
    if (def === undefined) this.values.delete(key);
    else this.values.set(key, def);
    return REPORTED.includes(display) ? display : undefined;
  }

  resetAll(): void {
    for (const k of [...this.values.keys()]) this.reset(k);
  }

  /** the names and values to announce right after authentication */
  reported(): [string, string][] {
    return REPORTED.map((k) => [k, this.values.get(k.toLowerCase()) ?? '']);
  }

  range(): TimeRangeText {
    return { begin: this.values.get('sirius.begin')!, end: this.values.get('sirius.end')! };
  }
}

/**
 * UTF8 as clients spell it: `UTF8`, `utf-8`, `Utf_8`, `unicode`, possibly still in the quotes a driver put
 * around it (asyncpg sends `'utf-8'` in the startup packet).
 */
export function isUtf8Name(value: string): boolean {
  const bare = value.trim().replace(/^(['"])(.*)\1$/, '$2').trim();
  return /^(utf[-_]?8|unicode)$/i.test(bare);
}

/**
 * A `/* begin=… end=… *\/` comment in the SQL overrides the session's range for that query. Values may
 * be quoted when they hold spaces.
 */
export function rangeFromComment(comments: readonly string[]): Partial<TimeRangeText> {
  const out: Partial<TimeRangeText> = {};
  for (const c of comments) {
    const re = /\b(begin|end)\s*=\s*(?:'([^']*)'|"([^"]*)"|(\S+))/gi;
    for (let m = re.exec(c); m; m = re.exec(c)) {
      const key = m[1]!.toLowerCase() as 'begin' | 'end';
      out[key] = (m[2] ?? m[3] ?? m[4]!).trim();
    }
  }
  return out;
}
