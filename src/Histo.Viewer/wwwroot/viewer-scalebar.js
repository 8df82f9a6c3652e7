// Histo slide page, the scale bar: microns per screen pixel from the slide's MPP and the current zoom, drawn as a bar
// of a round length. Hand-written: the OpenSeadragon scalebar plugin is not published on npm. Loaded before viewer.js.
(function (parts) {
  'use strict';

  parts.setUpScalebar = function (viewer, state, cfg) {
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
  };
})(window.histoParts = window.histoParts || {});
