// Alignment check of the Histo viewer's prediction maps in Debian's headless Chromium, driven by playwright-core.
// Usage: node alignment.mjs <slide page URL> <output folder> <JSON array of level-0 [x, y] points>
// Opens the slide page, hides the navigator, controls, scale bar and annotation layers, sets the overlay opaque and,
// for each map kind (heatmap, classmap): shows the whole slide, reports where the given level-0 points fall on the
// screenshot and the on-screen bounds of the map and of the slide, and saves a screenshot; then zooms in until a map
// cell is about 40 screen pixels wide and saves the class map there. Prints one JSON line; the C# test
// (tests/Histo.Tests/Viewer/ViewerBrowserTests.cs) checks the screenshots' pixels.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, outDir, pointsJson] = process.argv.slice(2);
if (!url || !outDir || !pointsJson) {
  console.error('usage: node alignment.mjs <slide page URL> <output folder> <points JSON>');
  process.exit(2);
}
const points = JSON.parse(pointsJson);

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'histo-chromium-'));
const result = { consoleErrors: [], failedResponses: [], kinds: {} };
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
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => result.consoleErrors.push(String(e)));
  page.on('requestfailed', (r) => result.failedResponses.push(`${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) result.failedResponses.push(`${r.url()} ${r.status()}`); });
  const settle = async () => {
    await page.waitForFunction(() => window.histo && window.histo.fullyLoaded(), null, { timeout: 60000, polling: 100 });
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  };

  await page.goto(url, { waitUntil: 'load' });
  await settle();
  result.kindsOffered = await page.evaluate(() => Array.from(document.querySelectorAll('#overlay-kind option')).map((o) => o.value));
  await page.evaluate(() => {
    const v = window.histo.viewer;
    v.navigator.element.style.display = 'none';
    v.setControlsEnabled(false);
    v.controls.forEach((c) => { c.element.style.display = 'none'; });
    document.getElementById('scalebar').style.display = 'none';
  });
  await page.locator('#overlay-opacity').fill('100');
  for (const toggle of await page.locator('#annotation-panel input[type=checkbox]').all()) {
    await toggle.uncheck();
  }
  result.viewerBox = await page.locator('#viewer').boundingBox();

  for (const kind of result.kindsOffered) {
    await page.selectOption('#overlay-kind', kind);
    await page.waitForFunction((k) => window.histo.overlayShown && window.histo.overlayKind === k, kind);
    await page.evaluate(() => window.histo.viewer.viewport.goHome(true));
    await settle();
    result.kinds[kind] = await page.evaluate((pts) => {
      const h = window.histo;
      const box = document.getElementById('viewer').getBoundingClientRect();
      const toScreen = (x, y) => {
        const p = h.slideItem.imageToViewerElementCoordinates(new OpenSeadragon.Point(x, y));
        return { x: box.left + p.x, y: box.top + p.y };
      };
      const size = h.slideItem.getContentSize();
      const topLeft = toScreen(0, 0), bottomRight = toScreen(size.x, size.y);
      const image = h.overlayItems[h.overlayKind];
      const r = image ? image.getBoundingClientRect() : null;
      return {
        samples: pts.map(([x, y]) => toScreen(x, y)),
        slideBounds: { left: topLeft.x, top: topLeft.y, right: bottomRight.x, bottom: bottomRight.y },
        mapBounds: r ? { left: r.left, top: r.top, right: r.right, bottom: r.bottom } : null,
      };
    }, points);
    await page.screenshot({ path: path.join(outDir, `home-${kind}.png`) });
  }

  // Zoomed in: one level-0 pixel = 0.4 screen pixels, so a 100-pixel map cell is 40 screen pixels wide.
  await page.selectOption('#overlay-kind', 'classmap');
  await page.evaluate(() => {
    const h = window.histo;
    const vp = h.viewer.viewport;
    vp.zoomTo(h.slideItem.imageToViewportZoom(0.4), null, true);
    vp.panTo(vp.getHomeBounds().getCenter(), true);
  });
  await settle();
  result.zoomedSlideBounds = await page.evaluate(() => {
    const h = window.histo;
    const box = document.getElementById('viewer').getBoundingClientRect();
    const size = h.slideItem.getContentSize();
    const a = h.slideItem.imageToViewerElementCoordinates(new OpenSeadragon.Point(0, 0));
    const b = h.slideItem.imageToViewerElementCoordinates(new OpenSeadragon.Point(size.x, size.y));
    return { left: box.left + a.x, top: box.top + a.y, right: box.left + b.x, bottom: box.top + b.y };
  });
  await page.screenshot({ path: path.join(outDir, 'zoomed-classmap.png') });
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
