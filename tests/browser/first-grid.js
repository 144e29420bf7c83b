// Time from navigation to the first grid of cards in headless chromium (bench/serve.sh).
'use strict';
const { chromium } = require('playwright-core');
(async () => {
  const dir = require('fs').mkdtempSync(require('os').tmpdir() + '/ckpt-chromium-');
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  // The browser's own first navigation (renderer and network service start-up) is timed apart:
  // a JSON route that reads nothing from the catalog, so the server stays as it started.
  let t0 = Date.now();
  await page.goto(process.argv[2] + 'api/taxonomy');
  console.log(`browser start-up (first navigation, /api/taxonomy) ${Date.now() - t0} ms`);
  for (let i = 0; i < 3; i++) {
    await page.goto('about:blank');
    t0 = Date.now();
    await page.goto(process.argv[2]);
    await page.waitForSelector('.card');
    const seen = Date.now() - t0;
    // the page's own moment (navigation start to the frame after the first cards went in),
    // apart from the time the driver takes to notice it under load
    const mark = await page.evaluate(() => new Promise((resolve) => {
      const get = () => performance.getEntriesByName('ckpt-first-grid')[0];
      const wait = () => (get() ? resolve(Math.round(get().startTime)) : setTimeout(wait, 10));
      wait();
    }));
    console.log(`first grid in ${mark} ms by the page's clock, ${seen} ms as the driver saw it` +
      ` (${await page.locator('.card').count()} cards)`);
  }
  await ctx.close();
  require('fs').rmSync(dir, { recursive: true, force: true });
})();
