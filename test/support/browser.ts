/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Cleanup } from '@brigade/testing';
import { REPO_ROOT } from '../../scripts/supervisor';

/** Debian's Chromium (`apt-get install -y chromium`), or `CHROMIUM_BIN`; never a download. */
const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';

/** Where the specs save screenshots a person can open (git-ignored). */
export const SCREENSHOTS = join(REPO_ROOT, '.demo', 'screenshots');

/**
 * Skips the calling suite, saying in one line what to install, when this machine has no
 * Chromium (a browser needs libraries no unpacked package brings along); under `CI=true`, where
 * `.ci/run` installs it, a missing one fails instead.
 */
export function skipWithoutChromium(suite: Mocha.Context): void {
  if (existsSync(CHROMIUM) || process.env['CI'] === 'true') return;
  console.log(
    `      skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_BIN)`,
  );
  suite.skip();
}

/** Headless Chromium with a fresh profile, closed and removed by `cleanup`. */
export async function launchBrowser(cleanup: Cleanup): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium, or set CHROMIUM_BIN`);
  const profile = mkdtempSync(join(tmpdir(), 'brigade-chromium-'));
  cleanup.add(profile, (dir) => rmSync(dir, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
  });
  return cleanup.add(context, (c) => c.close());
}

/** Saves a full-page screenshot as `<SCREENSHOTS>/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * The lowest contrast ratio (WCAG 2) between the text of the elements `selector` matches and the
 * background behind them, as the browser renders them.
 */
export function lowestContrast(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const rgb = (color: string): number[] => (color.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]): number => {
      const [R, G, B] = [r, g, b].map((v) => {
        const c = (v ?? 0) / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * (R ?? 0) + 0.7152 * (G ?? 0) + 0.0722 * (B ?? 0);
    };
    const background = (el: Element | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const [r, g, b, a] = rgb(getComputedStyle(e).backgroundColor);
        if (a === undefined || a > 0) return [r ?? 255, g ?? 255, b ?? 255];
      }
      return [255, 255, 255];
    };
    const ratios = [...document.querySelectorAll(sel)]
      .filter((el) => (el.textContent ?? '').trim() !== '')
      .map((el) => {
        const fg = luminance(rgb(getComputedStyle(el).color));
        const bg = luminance(background(el));
        return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      });
    return ratios.length === 0 ? 0 : Math.min(...ratios);
  }, selector);
}

/** Whether the page is wider than its viewport (it scrolls sideways). */
export function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}
