// Histo slide page, the view link: the address's #hash holds the view (level-0 centre x, y; zoom in screen pixels
// per level-0 pixel; layer, opacity; hidden prediction classes; label masks shown; hidden truth classes), kept in step
// with the view and applied when a link is opened. Loaded before viewer.js.
(function (parts) {
  'use strict';

  // The link's parameters: x, y (level-0 centre), zoom (screen pixels per level-0 pixel), layer, opacity, hide
  // (prediction classes off), truth (label masks shown), truthHide (truth classes off).
  /** Restores the view the address names, then keeps the address in step; returns the function to call after a change. */
  parts.setUpViewLink = function (viewer, state, applyPredictionClasses) {
    let viewLinkReady = false;
    restoreView(new URLSearchParams(location.hash.slice(1)));
    viewLinkReady = true;
    state.viewParams = function () { return viewParams().toString(); };
    // After each change of the view; a burst of changes (an animation, a drag) updates the address once it rests.
    let pending = 0;
    viewer.addHandler('viewport-change', function () {
      clearTimeout(pending);
      pending = setTimeout(viewChanged, 150);
    });
    viewer.addHandler('animation-finish', viewChanged);
    window.addEventListener('hashchange', function () {
      if (location.hash !== '#' + viewParams().toString()) {
        restoreView(new URLSearchParams(location.hash.slice(1)));
      }
    });
    viewChanged();

    function viewParams() {
      const vp = viewer.viewport;
      const item = state.slideItem;
      const centre = item.viewportToImageCoordinates(vp.getCenter(true));
      const params = new URLSearchParams();
      params.set('x', centre.x.toFixed(1));
      params.set('y', centre.y.toFixed(1));
      params.set('zoom', String(+item.viewportToImageZoom(vp.getZoom(true)).toPrecision(6)));
      const c = state.overlayControls;
      if (c) {
        params.set('layer', c.toggle.checked ? c.select.value : 'none');
        params.set('opacity', c.slider.value);
      }
      if (state.hiddenClasses.size > 0) {
        params.set('hide', Array.from(state.hiddenClasses).sort(function (a, b) { return a - b; }).join(','));
      }
      const shown = state.truthMasks.map(function (t, i) { return t.toggle.checked ? i : -1; }).filter(function (i) { return i >= 0; });
      if (shown.length > 0) {
        params.set('truth', shown.join(','));
      }
      if (state.truthHidden.size > 0) {
        params.set('truthHide', Array.from(state.truthHidden).sort(function (a, b) { return a - b; }).join(','));
      }
      return params;
    }

    /** Keeps the address and the link in step with the view (replacing the history entry, not adding one). */
    function viewChanged() {
      if (!viewLinkReady) {
        return;
      }
      const hash = '#' + viewParams().toString();
      if (location.hash !== hash) {
        history.replaceState(null, '', hash);
      }
      const link = document.getElementById('view-link');
      link.href = location.href;
      state.viewLink = link.href;
    }

    /** Applies a view link's parameters; a parameter left out of a link (one with x) means its default. */
    function restoreView(params) {
      const link = params.has('x');
      const indices = function (key) {
        return new Set((params.get(key) || '').split(',').filter(function (v) { return /^\d+$/.test(v); }).map(Number));
      };
      const c = state.overlayControls;
      const layer = params.get('layer');
      if (c && layer) {
        const offered = Array.from(c.select.options).some(function (o) { return o.value === layer; });
        c.toggle.checked = layer !== 'none' && offered;
        if (offered) c.select.value = layer;
      }
      const opacity = Number(params.get('opacity'));
      if (c && params.has('opacity') && opacity >= 0 && opacity <= 100) {
        c.slider.value = String(opacity);
      }
      if (c) c.apply();
      if (link || params.has('hide')) {
        state.hiddenClasses = indices('hide');
      }
      applyPredictionClasses();
      if (link || params.has('truthHide')) {
        state.truthHidden = indices('truthHide');
      }
      const shownMasks = indices('truth');
      state.truthMasks.forEach(function (t, i) {
        if (link || params.has('truth')) t.toggle.checked = shownMasks.has(i);
        t.apply();
      });
      const x = Number(params.get('x')), y = Number(params.get('y')), zoom = Number(params.get('zoom'));
      if (link && isFinite(x) && isFinite(y) && zoom > 0 && isFinite(zoom)) {
        const item = state.slideItem;
        viewer.viewport.zoomTo(item.imageToViewportZoom(zoom), null, true);
        viewer.viewport.panTo(item.imageToViewportCoordinates(new OpenSeadragon.Point(x, y)), true);
      }
    }

    return viewChanged;
  };
})(window.histoParts = window.histoParts || {});
