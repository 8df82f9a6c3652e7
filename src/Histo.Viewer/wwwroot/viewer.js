// Histo slide page: OpenSeadragon over the server's Deep Zoom tiles, prediction maps and annotation polygons in one
// SVG layer in level-0 pixels, and a scale bar. The server embeds the slide description (GET /api/slides/{slide}) as JSON in #slide-config.
// window.histo exposes the viewer state for the end-to-end test.
(function () {
  'use strict';

  const cfg = JSON.parse(document.getElementById('slide-config').textContent);
  const state = {
    ready: false,
    animating: false,
    tilesLoaded: 0,
    tileErrors: 0,
    maxTileLevel: -1,
    overlayItems: {},
    overlayKind: null,
    overlayShown: false,
    annotationPolygons: 0,
    errors: [],
  };
  window.histo = state;

  const viewer = OpenSeadragon({
    id: 'viewer',
    prefixUrl: '/static/openseadragon/images/',
    tileSources: cfg.deepZoom.dzi,
    drawer: 'canvas',
    showNavigator: true,
    navigatorPosition: 'TOP_RIGHT',
    showRotationControl: false,
    maxZoomPixelRatio: 2,
    visibilityRatio: 0.5,
    timeout: 60000,
    gestureSettingsMouse: { clickToZoom: false },
  });
  state.viewer = viewer;

  viewer.addHandler('tile-loaded', function (e) {
    if (e.tiledImage === state.slideItem) {
      state.tilesLoaded++;
      state.maxTileLevel = Math.max(state.maxTileLevel, e.tile.level);
    }
  });
  viewer.addHandler('tile-load-failed', function (e) {
    state.tileErrors++;
    state.errors.push('tile failed: ' + (e.message || ''));
  });
  viewer.addHandler('animation-start', function () { state.animating = true; });
  viewer.addHandler('animation-finish', function () { state.animating = false; });
  viewer.addHandler('open-failed', function (e) {
    state.errors.push('open failed: ' + (e.message || ''));
  });

  /** True once every visible image (slide and shown overlay) has all the tiles it needs for the current view. */
  state.fullyLoaded = function () {
    const world = viewer.world;
    if (!state.ready || state.animating || world.getItemCount() === 0) {
      return false;
    }
    for (let i = 0; i < world.getItemCount(); i++) {
      const item = world.getItemAt(i);
      if (item.getOpacity() > 0 && !item.getFullyLoaded()) {
        return false;
      }
    }
    return state.pendingOverlays === 0;
  };
  state.pendingOverlays = 0;

  viewer.addOnceHandler('open', function () {
    state.slideItem = viewer.world.getItemAt(0);
    setUpScalebar();
    setUpSvg();
    setUpOverlays();
    setUpAnnotations();
    state.ready = true;
  });

  // ---- Scale bar (hand-written: the OpenSeadragon scalebar plugin is not published on npm) ----
  function setUpScalebar() {
    const bar = document.getElementById('scalebar');
    if (!cfg.mppX) {
      bar.hidden = false;
      bar.classList.add('unknown');
      bar.querySelector('.label').textContent = 'scale unknown (no MPP)';
      return;
    }
    bar.hidden = false;
    const update = function () {
      // Screen pixels per level-0 pixel, then microns per screen pixel.
      const imageZoom = state.slideItem.viewportToImageZoom(viewer.viewport.getZoom(true));
      const micronsPerScreenPixel = cfg.mppX / imageZoom;
      const wanted = 150 * micronsPerScreenPixel;
      const power = Math.pow(10, Math.floor(Math.log10(wanted)));
      let length = power;
      for (const m of [5, 2, 1]) {
        if (m * power <= wanted) {
          length = m * power;
          break;
        }
      }
      const widthPx = length / micronsPerScreenPixel;
      bar.querySelector('.bar').style.width = widthPx.toFixed(1) + 'px';
      const text = length >= 1000 ? +(length / 1000).toPrecision(3) + ' mm' : +length.toPrecision(3) + ' µm';
      bar.querySelector('.label').textContent = text;
      state.scalebar = { micronsPerScreenPixel: micronsPerScreenPixel, lengthMicrons: length, widthPx: widthPx };
    };
    viewer.addHandler('animation', update);
    viewer.addHandler('resize', update);
    viewer.addHandler('update-viewport', update);
    update();
  }

  // ---- One SVG over the slide, in level-0 pixels: prediction maps first, annotation polygons above them ----
  const svgNS = 'http://www.w3.org/2000/svg';
  function setUpSvg() {
    const svg = document.createElementNS(svgNS, 'svg');
    svg.id = 'annotation-overlay';
    const root = document.createElementNS(svgNS, 'g');
    svg.appendChild(root);
    state.mapGroup = document.createElementNS(svgNS, 'g');
    state.mapGroup.id = 'map-layer';
    state.annotationGroup = document.createElementNS(svgNS, 'g');
    root.appendChild(state.mapGroup);
    root.appendChild(state.annotationGroup);
    viewer.canvas.appendChild(svg);
    const place = function () {
      const origin = viewer.viewport.pixelFromPoint(new OpenSeadragon.Point(0, 0), true);
      const screenPerViewport = viewer.viewport.getContainerSize().x * viewer.viewport.getZoom(true);
      root.setAttribute('transform', 'translate(' + origin.x + ',' + origin.y + ') scale(' + screenPerViewport / cfg.width + ')');
    };
    viewer.addHandler('animation', place);
    viewer.addHandler('resize', place);
    viewer.addHandler('update-viewport', place);
    place();
  }

  // ---- Prediction overlays (heatmap layer / class map placed by geometry.json) ----
  // Each map is an SVG image stretched over its level-0 rectangle and scaled without smoothing, so every map cell
  // stays a sharp rectangle that lines up with the prediction polygons at any zoom.
  function setUpOverlays() {
    const prediction = cfg.prediction;
    const panel = document.getElementById('overlay-panel');
    if (!prediction) {
      return;
    }
    panel.hidden = false;
    const title = el('h2', null, 'Prediction');
    panel.appendChild(title);
    if (prediction.error) {
      panel.appendChild(el('p', 'error', prediction.error));
    }
    const g = prediction.geometry;
    const kinds = [];
    if (prediction.heatmap) kinds.push({ key: 'heatmap', label: 'Heatmap', url: prediction.heatmap });
    if (prediction.classmap) kinds.push({ key: 'classmap', label: 'Class map', url: prediction.classmap });
    if (g && kinds.length > 0) {
      const controls = el('div', 'overlay-controls');
      const toggle = el('input');
      toggle.type = 'checkbox';
      toggle.id = 'overlay-toggle';
      toggle.checked = true;
      const toggleLabel = el('label', null);
      toggleLabel.appendChild(toggle);
      toggleLabel.appendChild(document.createTextNode(' show overlay'));
      controls.appendChild(toggleLabel);

      const select = el('select');
      select.id = 'overlay-kind';
      for (const k of kinds) {
        const o = el('option', null, k.label);
        o.value = k.key;
        select.appendChild(o);
      }
      controls.appendChild(select);

      const opacityLabel = el('label', 'opacity', 'opacity ');
      const slider = el('input');
      slider.type = 'range';
      slider.id = 'overlay-opacity';
      slider.min = '0';
      slider.max = '100';
      slider.value = '50';
      opacityLabel.appendChild(slider);
      controls.appendChild(opacityLabel);
      panel.appendChild(controls);

      state.overlayKind = kinds[0].key;
      const apply = function () {
        state.overlayKind = select.value;
        state.overlayShown = toggle.checked;
        for (const k of kinds) {
          const image = state.overlayItems[k.key];
          if (image) {
            const shown = toggle.checked && k.key === select.value;
            image.style.display = shown ? '' : 'none';
            image.setAttribute('opacity', String(slider.value / 100));
          }
        }
      };
      toggle.addEventListener('change', apply);
      select.addEventListener('change', apply);
      slider.addEventListener('input', apply);

      for (const k of kinds) {
        state.pendingOverlays++;
        const image = document.createElementNS(svgNS, 'image');
        image.setAttribute('class', 'map ' + k.key);
        image.setAttribute('x', g.level0X);
        image.setAttribute('y', g.level0Y);
        image.setAttribute('width', g.level0Width);
        image.setAttribute('height', g.level0Height);
        image.setAttribute('preserveAspectRatio', 'none');
        image.style.display = 'none';
        image.addEventListener('load', function () {
          state.pendingOverlays--;
        }, { once: true });
        image.addEventListener('error', function () {
          state.pendingOverlays--;
          state.errors.push(k.key + ' overlay failed');
          panel.appendChild(el('p', 'error', k.label + ' could not be loaded'));
        }, { once: true });
        image.setAttribute('href', k.url);
        state.mapGroup.appendChild(image);
        state.overlayItems[k.key] = image;
      }
      apply();
    }
    if (prediction.heatmapNote) {
      panel.appendChild(el('p', 'small', prediction.heatmapNote));
    }

    if (prediction.classes && prediction.classes.length > 0) {
      panel.appendChild(legend(prediction.classes.map(function (c) { return { name: c.name, color: c.color }; }), 'overlay-legend'));
    }
    if (prediction.overlay) {
      const p = el('p', 'small');
      const a = el('a', null, 'overlay.png');
      a.href = prediction.overlay;
      a.target = '_blank';
      p.appendChild(document.createTextNode('Pipeline picture: '));
      p.appendChild(a);
      panel.appendChild(p);
    }
    if (prediction.summary) {
      const details = el('details');
      details.appendChild(el('summary', null, 'summary.json'));
      details.appendChild(el('pre', null, JSON.stringify(prediction.summary, null, 2)));
      panel.appendChild(details);
    }
  }

  // ---- Annotation polygons (prediction GeoJSON, and GeoJSON / XML beside the slide), drawn as SVG ----
  function setUpAnnotations() {
    const root = state.annotationGroup;
    state.pendingOverlays++;
    fetch(cfg.annotations).then(function (r) {
      if (!r.ok) {
        return r.text().then(function (t) { throw new Error(t.trim()); });
      }
      return r.json();
    }).then(function (data) {
      const panel = document.getElementById('annotation-panel');
      if (data.layers.length > 0) {
        panel.hidden = false;
        panel.appendChild(el('h2', null, 'Annotations'));
      }
      data.layers.forEach(function (layer, index) {
        const group = document.createElementNS(svgNS, 'g');
        group.setAttribute('class', 'layer');
        const labels = new Map();
        for (const polygon of layer.polygons) {
          const path = document.createElementNS(svgNS, 'path');
          let d = '';
          for (const ring of polygon.rings) {
            d += 'M' + ring[0] + ' ' + ring[1];
            for (let i = 2; i < ring.length; i += 2) {
              d += 'L' + ring[i] + ' ' + ring[i + 1];
            }
            d += 'Z';
          }
          path.setAttribute('d', d);
          path.setAttribute('stroke', polygon.color);
          path.setAttribute('fill', polygon.color);
          const title = document.createElementNS(svgNS, 'title');
          title.textContent = polygon.label;
          path.appendChild(title);
          group.appendChild(path);
          labels.set(polygon.label || '(no label)', polygon.color);
          state.annotationPolygons++;
        }
        root.appendChild(group);

        const row = el('div', 'layer-row');
        const toggle = el('input');
        toggle.type = 'checkbox';
        toggle.checked = true;
        toggle.id = 'layer-toggle-' + index;
        toggle.addEventListener('change', function () { group.style.display = toggle.checked ? '' : 'none'; });
        const label = el('label', null);
        label.appendChild(toggle);
        label.appendChild(document.createTextNode(' ' + layer.name + ': ' + layer.source + ' (' + layer.polygons.length + ' polygons' +
          (layer.skipped ? ', ' + layer.skipped + ' other shapes skipped' : '') + ')'));
        row.appendChild(label);
        panel.appendChild(row);
        panel.appendChild(legend(Array.from(labels, function (e) { return { name: e[0], color: e[1] }; }), 'layer-legend'));
      });
    }).catch(function (err) {
      const panel = document.getElementById('annotation-panel');
      panel.hidden = false;
      panel.appendChild(el('p', 'error', 'Annotations could not be read: ' + err.message));
      state.errors.push('annotations: ' + err.message);
    }).finally(function () {
      state.pendingOverlays--;
    });
  }

  function legend(entries, className) {
    const list = el('ul', 'legend ' + className);
    for (const entry of entries) {
      const item = el('li');
      const swatch = el('span', 'swatch');
      swatch.style.background = entry.color;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(entry.name));
      list.appendChild(item);
    }
    return list;
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }
})();
