// What a reviewer does next to the prediction, in Debian's headless Chromium driven by playwright-core.
// Usage: node review.mjs <slide page URL> <output folder> <JSON { mapPoints, truthPoints, probe, view }>
//   mapPoints, truthPoints: level-0 [x, y] points whose screen positions are reported with each screenshot;
//   probe: the level-0 [x, y] point the mouse is moved to for the probability readout;
//   view: { x, y, zoom } the view the link must reopen (level-0 centre; screen pixels per level-0 pixel).
// Steps (one screenshot each, navigator, controls and scale bar hidden, annotation polygons off):
//   1 class map opaque at the home view; 2 the same with prediction class 1 switched off in the legend;
//   3 prediction off, ground-truth label mask on, opaque; 4 the same with truth class 0 switched off;
// then moves the mouse over the probe point and reports the readout; then sets the view, reads the page's
// "Link to this view" and opens it in a fresh page, reporting both views.
// Prints one JSON line; the C# test (tests/Histo.Tests/Viewer/ViewerReviewTests.cs) checks the pixels and values.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, outDir, plansJson] = process.argv.slice(2);
if (!url || !outDir || !plansJson) {
  console.error('usage: node review.mjs <slide page URL> <output folder> <plan JSON>');
  process.exit(2);
}
const plan = JSON.parse(plansJson);

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'histo-chromium-'));
const result = { consoleErrors: [], failedResponses: [], shots: {} };
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    timeout: 60000,
  });
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => result.consoleErrors.push(String(e)));
    page.on('requestfailed', (r) => result.failedResponses.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => { if (r.status() >= 400) result.failedResponses.push(`${r.url()} ${r.status()}`); });
  };
  const settle = async (page) => {
    await page.waitForFunction(() => window.histo && window.histo.fullyLoaded(), null, { timeout: 60000, polling: 100 });
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  };
  const viewOf = (page) => page.evaluate(() => {
    const h = window.histo;
    const vp = h.viewer.viewport;
    const c = h.slideItem.viewportToImageCoordinates(vp.getCenter(true));
    return {
      x: c.x, y: c.y, zoom: h.slideItem.viewportToImageZoom(vp.getZoom(true)),
      overlayShown: h.overlayShown, overlayKind: h.overlayKind, hiddenClasses: Array.from(h.hiddenClasses).sort(),
      truthHidden: Array.from(h.truthHidden).sort(),
      truthShown: h.truthMasks.map((t) => t.toggle.checked),
      classToggles: Array.from(document.querySelectorAll('#overlay-panel input.class-toggle')).map((b) => b.checked),
    };
  });

  const page = context.pages()[0] ?? await context.newPage();
  watch(page);
  await page.goto(url, { waitUntil: 'load' });
  await settle(page);
  result.truthLegend = await page.evaluate(() => Array.from(document.querySelectorAll('#annotation-panel .truth-legend li')).map((li) => li.textContent));
  result.classLegend = await page.evaluate(() => Array.from(document.querySelectorAll('#overlay-panel .legend li')).map((li) => li.textContent));
  await page.evaluate(() => {
    const v = window.histo.viewer;
    v.navigator.element.style.display = 'none';
    v.setControlsEnabled(false);
    v.controls.forEach((c) => { c.element.style.display = 'none'; });
    document.getElementById('scalebar').style.display = 'none';
  });
  for (const toggle of await page.locator('#annotation-panel input[id^=layer-toggle]').all()) {
    await toggle.uncheck();
  }
  await page.locator('#overlay-opacity').fill('100');
  await page.selectOption('#overlay-kind', 'classmap');
  await page.evaluate(() => window.histo.viewer.viewport.goHome(true));
  await settle(page);
  const screenPoints = (points) => page.evaluate((pts) => {
    const box = document.getElementById('viewer').getBoundingClientRect();
    return pts.map(([x, y]) => {
      const p = window.histo.slideItem.imageToViewerElementCoordinates(new OpenSeadragon.Point(x, y));
      return { x: box.left + p.x, y: box.top + p.y };
    });
  }, points);
  const shoot = async (name, points) => {
    const file = path.join(outDir, `${name}.png`);
    await page.screenshot({ path: file });
    result.shots[name] = { file, points: await screenPoints(points) };
  };
  await shoot('1-classmap', plan.mapPoints);

  await page.locator('#overlay-panel input.class-toggle[data-value="1"]').uncheck();
  await page.waitForFunction(() => window.histo.hiddenClasses.has(1));
  await settle(page);
  await shoot('2-classmap-class1-off', plan.mapPoints);

  await page.locator('#overlay-toggle').uncheck();
  await page.locator('#truth-toggle-0').check();
  await page.locator('#truth-opacity-0').fill('100');
  await settle(page);
  await shoot('3-truth', plan.truthPoints);

  await page.locator('#annotation-panel input.truth-class-toggle[data-value="0"]').uncheck();
  await settle(page);
  await shoot('4-truth-class0-off', plan.truthPoints);

  // The readout under the pointer.
  const [probe] = await screenPoints([plan.probe]);
  await page.mouse.move(probe.x - 30, probe.y - 30);
  await page.mouse.move(probe.x, probe.y, { steps: 5 });
  await page.waitForFunction(([x, y]) => {
    const r = window.histo.readout;
    return r && Math.abs(r.level0X - x) < 20 && Math.abs(r.level0Y - y) < 20;
  }, plan.probe, { timeout: 15000 });
  result.readout = await page.evaluate(() => window.histo.readout);
  result.readoutText = await page.locator('#readout').innerText();
  result.readoutVisible = await page.locator('#readout').isVisible();
  await page.screenshot({ path: path.join(outDir, '5-readout.png') });

  // The link: set a view, wait for the address to follow, open the link in a fresh page.
  await page.locator('#overlay-toggle').check();
  await page.evaluate((v) => {
    const h = window.histo;
    const vp = h.viewer.viewport;
    vp.zoomTo(h.slideItem.imageToViewportZoom(v.zoom), null, true);
    vp.panTo(h.slideItem.imageToViewportCoordinates(new OpenSeadragon.Point(v.x, v.y)), true);
  }, plan.view);
  await page.waitForFunction(() => document.getElementById('view-link').href === location.href && location.hash === '#' + window.histo.viewParams(),
    null, { timeout: 15000, polling: 100 });
  await settle(page);
  result.link = await page.locator('#view-link').getAttribute('href');
  result.linkAbsolute = await page.evaluate(() => document.getElementById('view-link').href);
  result.original = await viewOf(page);

  const fresh = await context.newPage();
  watch(fresh);
  await fresh.goto(result.linkAbsolute, { waitUntil: 'load' });
  await settle(fresh);
  result.reopened = await viewOf(fresh);
  await fresh.close();
} catch (e) {
  result.failure = String(e && e.stack ? e.stack : e);
} finally {
  if (context) {
    await context.close();
  }
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.failure ? 1 : 0);
