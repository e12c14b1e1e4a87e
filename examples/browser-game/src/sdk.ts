/**
 * The part of the browser SDK this game uses, and how it gets it: an ES module import of
 * `<server>/sdk/tracing.js`, served by `sirius serve` — no bundler, no npm install in the page.
 */
export interface LogOptions {
  target?: string;
  properties?: Record<string, string>;
}

export interface SiriusBrowserSdk {
  init(options: {
    url?: string;
    apiKey?: string;
    exe?: string;
    properties?: Record<string, string>;
    sampling?: false | Record<string, unknown>;
  }): void;
  trackAnimationFrames(): () => void;
  span<T>(name: string, fn: () => T, options?: { target?: string }): T;
  info(message: string, options?: LogOptions): void;
  warn(message: string, options?: LogOptions): void;
  debug(message: string, options?: LogOptions): void;
  imetric(name: string, unit: string, value: number, options?: { target?: string }): void;
  fmetric(name: string, unit: string, value: number, options?: { target?: string }): void;
  flush(options?: { timeoutMs?: number }): Promise<boolean>;
}

/** Loads the SDK from the Sirius server at `serverUrl`. */
export async function loadSdk(serverUrl: string): Promise<SiriusBrowserSdk> {
  const url = `${serverUrl.replace(/\/+$/, '')}/sdk/tracing.js`;
  try {
    return (await import(/* @vite-ignore */ url)) as SiriusBrowserSdk;
  } catch (err) {
    throw new Error(`could not load the Sirius browser SDK from ${url} (is the server running? npm start): ${String(err)}`);
  }
}
