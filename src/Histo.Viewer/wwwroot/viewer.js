// Histo slide page: OpenSeadragon over the server's Deep Zoom tiles, prediction maps, ground-truth label masks and
// annotation polygons in one SVG layer in level-0 pixels, a scale bar, per-class toggles, the prediction's class
// probabilities under the pointer, and a link (the address's #hash) that reopens the same view. The server embeds the
// slide description (GET /api/slides/{slide}) as JSON in #slide-config.
// window.histo exposes the viewer state for the end-to-end test. The scale bar (viewer-scalebar.js) and the view link
// (viewer-link.js) are parts of their own, loaded first into window.histoParts.
(function (parts) {
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
    hiddenClasses: new Set(), // prediction class indices hidden in the class map and the prediction polygons
    truthMasks: [], // { image, toggle, apply, url, source } per label mask beside the slide
    truthHidden: new Set(), // truth class codes hidden in every label mask
    readout: null, // the last answer of the probability endpoint shown under the pointer
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
  let viewChanged = function () {}; // keeps the view link in step once it is set up (viewer-link.js)

  viewer.addOnceHandler('open', function () {
    state.slideItem = viewer.world.getItemAt(0);
    parts.setUpScalebar(viewer, state, cfg);
    setUpSvg();
    setUpOverlays();
    setUpTruthMasks();
    setUpAnnotations();
    setUpReadout();
    viewChanged = parts.setUpViewLink(viewer, state, applyPredictionClasses);
    state.ready = true;
  });

  // ---- One SVG over the slide, in level-0 pixels: prediction maps first, annotation polygons above them ----
  const svgNS = 'http://www.w3.org/2000/svg';
  function setUpSvg() {
    const svg = document.createElementNS(svgNS, 'svg');
    svg.id = 'annotation-overlay';
    const root = document.createElementNS(svgNS, 'g');
    svg.appendChild(root);
    state.mapGroup = document.createElementNS(svgNS, 'g');
    state.mapGroup.id = 'map-layer';
    state.truthGroup = document.createElementNS(svgNS, 'g');
    state.truthGroup.id = 'truth-layer';
    state.annotationGroup = document.createElementNS(svgNS, 'g');
    root.appendChild(state.mapGroup);
    root.appendChild(state.truthGroup);
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
      state.overlayControls = { toggle: toggle, select: select, slider: slider };
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
        viewChanged();
      };
      state.overlayControls.apply = apply;
      toggle.addEventListener('change', apply);
      select.addEventListener('change', apply);
      slider.addEventListener('input', apply);

      for (const k of kinds) {
        const image = document.createElementNS(svgNS, 'image');
        image.setAttribute('class', 'map ' + k.key);
        image.setAttribute('x', g.level0X);
        image.setAttribute('y', g.level0Y);
        image.setAttribute('width', g.level0Width);
        image.setAttribute('height', g.level0Height);
        image.setAttribute('preserveAspectRatio', 'none');
        image.style.display = 'none';
        loadImage(image, k.url, k.label, panel);
        state.mapGroup.appendChild(image);
        state.overlayItems[k.key] = image;
      }
      state.classMapUrl = prediction.classmap;
      apply();
    }
    if (prediction.heatmapNote) {
      panel.appendChild(el('p', 'small', prediction.heatmapNote));
    }

    if (prediction.classes && prediction.classes.length > 0) {
      // One toggle per class: it shows or hides the class in the class map and in the prediction polygons.
      state.predictionClasses = prediction.classes;
      panel.appendChild(legend(prediction.classes.map(function (c) { return { name: c.name, color: c.color, value: c.index }; }), 'overlay-legend',
        'class-toggle', function (index, shown) {
          if (shown) state.hiddenClasses.delete(index); else state.hiddenClasses.add(index);
          applyPredictionClasses();
        }));
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

  // ---- Polygons (the prediction GeoJSON, and ground-truth annotation files beside the slide), drawn as SVG ----
  function setUpAnnotations() {
    const root = state.annotationGroup;
    state.pendingOverlays++;
    fetch(cfg.annotations).then(function (r) {
      if (!r.ok) {
        return r.text().then(function (t) { throw new Error(t.trim()); });
      }
      return r.json();
    }).then(function (data) {
      const panel = data.layers.length > 0 ? annotationPanel() : document.getElementById('annotation-panel');
      data.layers.forEach(function (layer, index) {
        const group = document.createElementNS(svgNS, 'g');
        group.setAttribute('class', 'layer');
        group.dataset.layer = layer.name;
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
          path.dataset.label = polygon.label;
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
        const entries = Array.from(labels, function (e) { return { name: e[0], color: e[1], value: e[0] }; });
        if (layer.name === 'prediction') {
          // Its classes are the prediction's: the prediction's class toggles show and hide them.
          panel.appendChild(legend(entries, 'layer-legend'));
        } else {
          panel.appendChild(legend(entries, 'layer-legend', 'label-toggle', function (value, shown) {
            for (const path of group.querySelectorAll('path')) {
              if ((path.dataset.label || '(no label)') === value) path.style.display = shown ? '' : 'none';
            }
          }));
        }
      });
      applyPredictionClasses();
    }).catch(function (err) {
      const panel = document.getElementById('annotation-panel');
      panel.hidden = false;
      panel.appendChild(el('p', 'error', 'Annotations could not be read: ' + err.message));
      state.errors.push('annotations: ' + err.message);
    }).finally(function () {
      state.pendingOverlays--;
    });
  }

  /** A list of swatches and names; with onToggle, each entry is a checkbox (class toggleClass, data-value) calling onToggle(value, checked). */
  function legend(entries, className, toggleClass, onToggle) {
    const list = el('ul', 'legend ' + className);
    for (const entry of entries) {
      const item = el('li');
      const holder = onToggle ? el('label') : item;
      if (onToggle) {
        const box = el('input');
        box.type = 'checkbox';
        box.checked = true;
        box.className = toggleClass;
        box.dataset.value = String(entry.value);
        box.title = 'show or hide ' + entry.name;
        box.addEventListener('change', function () { onToggle(entry.value, box.checked); });
        holder.appendChild(box);
        item.appendChild(holder);
      }
      const swatch = el('span', 'swatch');
      swatch.style.background = entry.color;
      holder.appendChild(swatch);
      holder.appendChild(document.createTextNode(entry.name));
      list.appendChild(item);
    }
    return list;
  }

  /** The annotation panel, shown, with its heading. */
  function annotationPanel() {
    const panel = document.getElementById('annotation-panel');
    if (panel.hidden) {
      panel.hidden = false;
      panel.appendChild(el('h2', null, 'Ground truth and annotations'));
    }
    return panel;
  }

  /** Sets an SVG image's address, counting the image as pending (see fullyLoaded) until it has loaded or failed. */
  function loadImage(image, url, label, panel) {
    if (image.getAttribute('href') === url) {
      return;
    }
    if (!image.dataset.pending) {
      image.dataset.pending = '1';
      state.pendingOverlays++;
      const done = function (e) {
        image.removeEventListener('load', done);
        image.removeEventListener('error', done);
        delete image.dataset.pending;
        state.pendingOverlays--;
        if (e.type === 'error') {
          state.errors.push(label + ' overlay failed');
          panel.appendChild(el('p', 'error', label + ' could not be loaded'));
        }
      };
      image.addEventListener('load', done);
      image.addEventListener('error', done);
    }
    image.setAttribute('href', url);
  }

  /** A map address with the hidden classes left out by the server (?hide=1,3). */
  function withHidden(url, hidden) {
    return hidden.size === 0 ? url : url + '?hide=' + Array.from(hidden).sort(function (a, b) { return a - b; }).join(',');
  }

  /** Shows the prediction classes that are switched on, in the class map and in the prediction's polygons. */
  function applyPredictionClasses() {
    const image = state.overlayItems.classmap;
    if (image && state.classMapUrl) {
      loadImage(image, withHidden(state.classMapUrl, state.hiddenClasses), 'Class map', document.getElementById('overlay-panel'));
    }
    const hiddenNames = new Set((state.predictionClasses || []).filter(function (c) { return state.hiddenClasses.has(c.index); }).map(function (c) { return c.name; }));
    for (const path of state.annotationGroup.querySelectorAll('g[data-layer="prediction"] path')) {
      path.style.display = hiddenNames.has(path.dataset.label) ? 'none' : '';
    }
    for (const box of document.querySelectorAll('#overlay-panel input.class-toggle')) {
      box.checked = !state.hiddenClasses.has(Number(box.dataset.value));
    }
    viewChanged();
  }

  // ---- Ground-truth label masks beside the slide (e.g. A01-window-labels.png), painted by the server in class colours ----
  function setUpTruthMasks() {
    (cfg.truthMasks || []).forEach(function (mask, index) {
      const panel = annotationPanel();
      if (mask.error) {
        panel.appendChild(el('p', 'error', 'ground truth ' + mask.source + ': ' + mask.error));
        return;
      }
      const image = document.createElementNS(svgNS, 'image');
      image.setAttribute('class', 'map truth');
      image.setAttribute('x', mask.level0X);
      image.setAttribute('y', mask.level0Y);
      image.setAttribute('width', mask.level0Width);
      image.setAttribute('height', mask.level0Height);
      image.setAttribute('preserveAspectRatio', 'none');
      image.style.display = 'none';
      state.truthGroup.appendChild(image);
      const truth = { image: image, url: mask.url, source: mask.source };
      state.truthMasks.push(truth);

      const row = el('div', 'layer-row');
      const toggle = el('input');
      toggle.type = 'checkbox';
      toggle.checked = false; // a label mask paints the whole slide: off until asked for
      toggle.id = 'truth-toggle-' + index;
      const label = el('label', null);
      label.appendChild(toggle);
      label.appendChild(document.createTextNode(' ground truth: ' + mask.source + ' (label mask)'));
      row.appendChild(label);
      const opacityLabel = el('label', 'opacity', ' opacity ');
      const slider = el('input');
      slider.type = 'range';
      slider.id = 'truth-opacity-' + index;
      slider.min = '0';
      slider.max = '100';
      slider.value = '50';
      opacityLabel.appendChild(slider);
      row.appendChild(opacityLabel);
      panel.appendChild(row);
      truth.toggle = toggle;
      truth.apply = function () {
        image.style.display = toggle.checked ? '' : 'none';
        image.setAttribute('opacity', String(slider.value / 100));
        if (toggle.checked) {
          loadImage(image, withHidden(mask.url, state.truthHidden), 'Ground truth ' + mask.source, panel);
        }
        for (const box of truth.legend.querySelectorAll('input')) {
          box.checked = !state.truthHidden.has(Number(box.dataset.value));
        }
        viewChanged();
      };
      truth.legend = legend(mask.classes.map(function (c) { return { name: c.name, color: c.color, value: c.index }; }), 'truth-legend',
        'truth-class-toggle', function (code, shown) {
          if (shown) state.truthHidden.delete(code); else state.truthHidden.add(code);
          state.truthMasks.forEach(function (t) { t.apply(); });
        });
      panel.appendChild(truth.legend);
      toggle.addEventListener('change', truth.apply);
      slider.addEventListener('input', truth.apply);
      truth.apply();
    });
  }

  // ---- The prediction's class probabilities at the pointer (GET /api/probabilities/{slide}?x=&y=, level-0 pixels) ----
  function setUpReadout() {
    const url = cfg.prediction && cfg.prediction.probabilities;
    if (!url) {
      return;
    }
    const box = document.getElementById('readout');
    let inFlight = false;
    let wanted = null;
    const ask = function () {
      if (inFlight || !wanted) {
        return;
      }
      const point = wanted;
      wanted = null;
      inFlight = true;
      fetch(url + '?x=' + point.x.toFixed(1) + '&y=' + point.y.toFixed(1)).then(function (r) {
        if (!r.ok) {
          return r.text().then(function (t) { throw new Error(t.trim()); });
        }
        return r.json();
      }).then(function (data) {
        state.readout = data;
        showReadout(box, data);
      }).catch(function (err) {
        box.hidden = false;
        box.textContent = 'probabilities: ' + err.message;
        state.errors.push('probabilities: ' + err.message);
      }).finally(function () {
        inFlight = false;
        ask();
      });
    };
    // Capture phase: OpenSeadragon's own pointer handling below must not keep the readout from seeing the pointer.
    viewer.element.addEventListener('pointermove', function (e) {
      const rect = viewer.element.getBoundingClientRect();
      const p = state.slideItem.viewerElementToImageCoordinates(new OpenSeadragon.Point(e.clientX - rect.left, e.clientY - rect.top));
      wanted = { x: p.x, y: p.y };
      ask();
    }, { capture: true });
    viewer.element.addEventListener('pointerleave', function () {
      wanted = null;
      box.hidden = true;
    });
  }

  function showReadout(box, data) {
    box.textContent = '';
    box.hidden = false;
    box.appendChild(el('div', 'where', 'x ' + Math.round(data.level0X) + ', y ' + Math.round(data.level0Y) + ' px (level 0)'));
    if (data.column === null) {
      box.appendChild(el('div', 'note', 'outside the prediction map'));
      return;
    }
    if (!data.tissue) {
      box.appendChild(el('div', 'note', 'cell ' + data.column + ', ' + data.row + ': not classified (no tissue)'));
      return;
    }
    box.appendChild(el('div', 'note', 'cell ' + data.column + ', ' + data.row));
    const best = data.classes.reduce(function (a, c) { return c.probability > a.probability ? c : a; }, data.classes[0]);
    const table = el('table', 'probabilities');
    for (const c of data.classes) {
      const tr = el('tr', c === best ? 'best' : null);
      const name = el('td');
      const swatch = el('span', 'swatch');
      swatch.style.background = c.color;
      name.appendChild(swatch);
      name.appendChild(document.createTextNode(c.name));
      tr.appendChild(name);
      tr.appendChild(el('td', 'value', (100 * c.probability).toFixed(1) + ' %'));
      table.appendChild(tr);
    }
    box.appendChild(table);
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }
})(window.histoParts);
