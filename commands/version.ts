// The version, injected at build time by scripts/build.mjs (falls back for ts-jest runs).
declare const __SAYCLAW_VERSION__: string | undefined;
export const VERSION: string = typeof __SAYCLAW_VERSION__ === 'string' ? __SAYCLAW_VERSION__ : '0.0.0-dev';
