// The page in headless Debian chromium (playwright-core): load, filter by output and realism,
// search, open a model, set a field and see it persist after a reload, accept a suggestion,
// see a merge's Lineage section (parents with per-block bars, similar models, a parent's link)
// and a model without fingerprints say so, open the choose panel; screenshots of the grid and the detail panel go to SHOTS.
// usage: node page.js URL SHOTS_DIR   (prints "N passed, N failed"; exit 1 on any failure)
'use strict';
const { chromium } = require('playwright-core');
const [url, shots] = process.argv.slice(2);
let pass = 0, fail = 0;
function check(name, cond, why) {
  if (cond) pass++;
  else { fail++; console.error(`FAIL: ${name}: ${why || ''}`); }
}

(async () => {
  const userDir = require('fs').mkdtempSync(require('os').tmpdir() + '/ckpt-chromium-');
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 860 },
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(url);
    await page.waitForSelector('.card');
    const cards = await page.locator('.card').count();
    const total = await (await page.request.get(url + 'api/models')).json();
    check('grid shows the models', cards === Math.min(total.total, 60), `${cards} cards for ${total.total}`);
    await page.screenshot({ path: `${shots}/grid.png` });

    // filter by output (a chosen value in the catalog) via the facet list, and check the URL
    const outLabel = page.locator('details[data-axis="output"] label:not([data-value="none"])').first();
    const outValue = await outLabel.getAttribute('data-value');
    await outLabel.click();
    await page.waitForFunction((v) => location.search.includes('output=' + v), outValue);
    await page.waitForTimeout(300);
    const filtered = await (await page.request.get(url + 'api/models?output=' + outValue)).json();
    check('output filter', await page.locator('.card').count() === filtered.total, `expected ${filtered.total}`);
    const reLabel = page.locator('details[data-axis="realism"] label:not([data-value="none"])').first();
    if (await reLabel.count()) {
      const reValue = await reLabel.getAttribute('data-value');
      await reLabel.click();
      await page.waitForFunction((v) => location.search.includes('realism=' + encodeURIComponent(v)) || location.search.includes('realism=' + v), reValue);
      await page.waitForTimeout(300);
      const both = await (await page.request.get(`${url}api/models?output=${outValue}&realism=${encodeURIComponent(reValue)}`)).json();
      check('output + realism filter', await page.locator('.card').count() === both.total, `expected ${both.total}`);
    }
    // the state is in the URL: reloading keeps the view
    await page.reload();
    await page.waitForSelector('details[data-axis="output"] label.on');
    check('filters survive reload', (await page.locator('details[data-axis="output"] label.on').getAttribute('data-value')) === outValue);

    // search
    await page.goto(url);
    await page.waitForSelector('.card');
    await page.fill('#search', 'realistic');
    await page.waitForFunction(() => location.search.includes('q=realistic'));
    await page.waitForTimeout(400);
    const found = await (await page.request.get(url + 'api/models?q=realistic')).json();
    check('search', await page.locator('.card').count() === found.total && found.total > 0, `expected ${found.total}`);

    // open a model, set a field, reload, see it
    await page.locator('.card').first().click();
    await page.waitForSelector('#detail:not([hidden]) h2');
    await page.screenshot({ path: `${shots}/detail.png` });
    const id = new URL(page.url()).searchParams.get('model');
    const note = 'chosen in the browser test ' + Date.now();
    await page.fill('#detail .field[data-field="note"] input', note);
    await page.click('#detail .field[data-field="note"] button.save');
    await page.waitForSelector('#toast:not([hidden])');
    await page.reload();
    await page.waitForSelector('#detail:not([hidden]) .field[data-field="note"] input');
    check('set persists after reload', await page.inputValue('#detail .field[data-field="note"] input') === note);
    const m = await (await page.request.get(url + 'api/models/' + id)).json();
    check('set reached the catalog', m.note === note, JSON.stringify(m.note));

    // accept a suggestion on a model that has one
    const all = await (await page.request.get(url + 'api/models?limit=500')).json();
    const withSugg = all.models.find((x) => Object.keys(x.suggested || {}).length);
    if (withSugg) {
      const field = Object.keys(withSugg.suggested)[0];
      await page.goto(url + '?model=' + withSugg.id);
      await page.waitForSelector(`#suggestions .sugg[data-field="${field}"] button.accept`);
      await page.click(`#suggestions .sugg[data-field="${field}"] button.accept`);
      await page.waitForSelector('#toast:not([hidden])');
      const after = await (await page.request.get(url + 'api/models/' + withSugg.id)).json();
      const v = Array.isArray(after[field]) ? after[field].join(',') : String(after[field]);
      check('accept a suggestion', v === withSugg.suggested[field].value, `${field}: ${v}`);
    } else {
      check('a model with a suggestion exists', false, 'none in the test catalog');
    }

    // Lineage section: the demo family's weighted sum (scanned with hashing by browser.sh)
    const fam = await (await page.request.get(url + 'api/models?q=lineageBlendMix_v10')).json();
    const blend = fam.models.find((x) => x.name === 'lineageBlendMix_v10');
    check('the family is in the catalog', !!blend, JSON.stringify(fam.models.map((x) => x.name)));
    if (blend) {
      const want = await (await page.request.get(`${url}api/models/${blend.id}/lineage`)).json();
      await page.goto(url + '?model=' + blend.id);
      await page.waitForSelector('#lineage[data-state="loaded"]');
      const text = await page.locator('#lineage .origin').innerText();
      check('lineage origin', text.startsWith('merge') && text.includes(want.lineage.origin.why), text);
      check('lineage parents', await page.locator('#lineage .parent .model-link').count() === want.lineage.parents.length &&
        want.lineage.parents.length === 2, `${want.lineage.parents.length} parents`);
      check('per-block bars', await page.locator('#lineage .parent svg.blocks rect').count() ===
        want.lineage.parents.reduce((n, p) => n + Object.keys(p.blocks).length, 0));
      check('similar models', await page.locator('#lineage .similar').count() === want.similar.length && want.similar.length > 0,
        `${want.similar.length} similar`);
      check('no stray null text', !/null/.test(await page.locator('#detail').innerText()));
      check('shared components', (await page.locator('#lineage .similar').first().innerText()).includes('vae'));
      await page.locator('#lineage').scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${shots}/lineage.png` });
      const first = page.locator('#lineage .parent .model-link').first();
      const parentName = await first.innerText();
      await first.click();
      await page.waitForFunction((n) => document.querySelector('#detail h2')?.textContent === n, parentName);
      check('parent link opens its detail', new URL(page.url()).searchParams.get('model') === String(want.parent_ids[0]));
    }
    const plain = all.models.find((x) => x.name === 'realisticVision_v51');
    if (plain) {
      await page.goto(url + '?model=' + plain.id);
      await page.waitForFunction(() => /No lineage fingerprints/.test(document.querySelector('#lineage')?.textContent || ''));
      check('no fingerprints said', true);
    } else {
      check('a model scanned without hashing exists', false, 'realisticVision_v51 not in the catalog');
    }

    // choose panel
    await page.goto(url);
    await page.click('#open-choose');
    await page.waitForSelector('#choose:not([hidden]) select[name="output"]');
    await page.selectOption('#choose select[name="output"]', outValue);
    await page.waitForSelector('#choose-results .result, #choose-results div');
    await page.waitForTimeout(300);
    const ranked = await (await page.request.get(url + 'api/choose?output=' + outValue)).json();
    check('choose panel ranks', await page.locator('#choose-results .result').count() === ranked.length && ranked.length > 0, `expected ${ranked.length}`);

    // overview charts are inline SVG
    await page.goto(url + '?view=overview');
    await page.waitForSelector('#overview .chart svg');
    check('overview charts', await page.locator('#overview .chart svg').count() >= 5);
    await page.screenshot({ path: `${shots}/overview.png`, fullPage: true });
    check('no page errors', errors.length === 0, errors.join('; '));
  } catch (e) {
    check('page run', false, e.stack);
  } finally {
    await ctx.close();
    require('fs').rmSync(userDir, { recursive: true, force: true });
  }
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail ? 1 : 0);
})();
