// End-to-end check of the Histo viewer in Debian's headless Chromium, driven by playwright-core.
// Usage: node viewer.mjs <slide page URL> <output folder> [JSON array of level-0 [x, y] points]
// Opens the slide page, waits for every tile, zooms with the mouse wheel, toggles the prediction overlay, switches
// to the class map, then shows the whole slide with the class map opaque and the annotation layers hidden, reporting
// where the given level-0 points fall on the screenshot, saving a screenshot after each step. Prints one JSON line with what the page reported; the C# test
// (tests/Histo.Tests/Viewer/ViewerBrowserTests.cs) checks the screenshots' pixels.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, outDir, pointsJson] = process.argv.slice(2);
const points = pointsJson ? JSON.parse(pointsJson) : [];
if (!url || !outDir) {
  console.error('usage: node viewer.mjs <slide page URL> <output folder>');
  process.exit(2);
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'histo-chromium-'));
const result = { consoleErrors: [], failedResponses: [], screenshots: {} };
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
    // Two animation frames so the canvas shows what was drawn.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  };
  const snapshot = () => page.evaluate(() => ({
    tilesLoaded: window.histo.tilesLoaded,
    maxTileLevel: window.histo.maxTileLevel,
    zoom: window.histo.viewer.viewport.getZoom(true),
    overlayShown: window.histo.overlayShown,
    overlayKind: window.histo.overlayKind,
    annotationPolygons: window.histo.annotationPolygons,
    scalebar: document.querySelector('#scalebar .label').textContent,
    legend: Array.from(document.querySelectorAll('#overlay-panel .legend li')).map((li) => li.textContent),
    errors: window.histo.errors,
  }));
  const shoot = async (name) => {
    const file = path.join(outDir, `${name}.png`);
    await page.screenshot({ path: file });
    result.screenshots[name] = file;
  };

  await page.goto(url, { waitUntil: 'load' });
  await settle();
  result.opened = await snapshot();
  await shoot('1-opened');

  const box = await page.locator('#viewer').boundingBox();
  result.viewerBox = box;
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.75);
  for (let i = 0; i < 10; i++) {
    await page.mouse.wheel(0, -300);
    await page.waitForTimeout(60);
  }
  await page.waitForTimeout(300);
  await settle();
  result.zoomed = await snapshot();
  await shoot('2-zoomed');

  await page.click('#overlay-toggle');
  await page.waitForFunction(() => !window.histo.overlayShown);
  await settle();
  result.overlayOff = await snapshot();
  await shoot('3-zoomed-overlay-off');

  await page.click('#overlay-toggle');
  await page.selectOption('#overlay-kind', 'classmap');
  await page.waitForFunction(() => window.histo.overlayShown && window.histo.overlayKind === 'classmap');
  await settle();
  result.classMap = await snapshot();
  await shoot('4-zoomed-classmap');

  await page.locator('#overlay-opacity').fill('100');
  for (const toggle of await page.locator('#annotation-panel input[type=checkbox]').all()) {
    await toggle.uncheck();
  }
  await page.evaluate(() => window.histo.viewer.viewport.goHome(true));
  await settle();
  result.samples = await page.evaluate((pts) => {
    const box = document.getElementById('viewer').getBoundingClientRect();
    return pts.map(([x, y]) => {
      const p = window.histo.slideItem.imageToViewerElementCoordinates(new OpenSeadragon.Point(x, y));
      return { x: box.left + p.x, y: box.top + p.y };
    });
  }, points);
  result.annotationsHidden = await page.evaluate(() =>
    Array.from(document.querySelectorAll('#annotation-overlay g.layer')).every((g) => g.style.display === 'none'));
  await shoot('5-home-classmap-opaque');
} catch (e) {
  result.failure = String(e && e.stack ? e.stack : e);
  try {
    const page = context.pages()[0];
    result.stateAtFailure = await page.evaluate(() => window.histo && {
      ready: window.histo.ready, animating: window.histo.animating, pendingOverlays: window.histo.pendingOverlays,
      tilesLoaded: window.histo.tilesLoaded, errors: window.histo.errors,
      items: Array.from({ length: window.histo.viewer.world.getItemCount() },
        (_, i) => window.histo.viewer.world.getItemAt(i).getFullyLoaded()),
    });
    await page.screenshot({ path: path.join(outDir, 'failure.png') });
  } catch (inner) {
    result.stateAtFailure = String(inner);
  }
} finally {
  if (context) {
    await context.close();
  }
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.failure ? 1 : 0);
