/* The case's BPMN diagram, drawn with the bpmn-js viewer (NavigatedViewer: pan and zoom, no editing).
   Completed elements are marked, current ones highlighted, a failed one (an open incident) flagged.
   No inline script: CSP allows 'self' only. */
(function () {
  "use strict";
  var READABLE = 0.75; // below this scale a task's name is too small to read on a laptop screen
  var MIN_ZOOM = 0.2, MAX_ZOOM = 4;

  function show(container, message) {
    container.innerHTML = "";
    var p = document.createElement("p");
    p.className = "muted";
    p.textContent = message;
    container.appendChild(p);
  }
  function shapesOf(registry, ids) {
    return ids.map(function (id) { return registry.get(id); })
      .filter(function (e) { return e && e.width !== undefined && e.type !== "bpmn:SubProcess"; });
  }
  function box(shapes) {
    var b = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
    shapes.forEach(function (e) {
      b.minX = Math.min(b.minX, e.x); b.minY = Math.min(b.minY, e.y);
      b.maxX = Math.max(b.maxX, e.x + e.width); b.maxY = Math.max(b.maxY, e.y + e.height);
    });
    return b;
  }
  function show_at(canvas, cx, cy, scale) {
    var size = canvas.getSize(), w = size.width / scale, h = size.height / scale;
    canvas.viewbox({ x: cx - w / 2, y: cy - h / 2, width: w, height: h });
  }
  // The viewbox that shows these elements, at most at natural size (scale 1).
  function focus(canvas, registry, ids) {
    var shapes = shapesOf(registry, ids);
    if (!shapes.length) { return false; }
    var b = box(shapes), size = canvas.getSize(), pad = 120;
    var scale = Math.min(1, size.width / (b.maxX - b.minX + 2 * pad), size.height / (b.maxY - b.minY + 2 * pad));
    show_at(canvas, (b.minX + b.maxX) / 2, (b.minY + b.maxY) / 2, scale);
    return true;
  }
  // A concluded case: the path it took, at a readable size. When the whole path does not fit at that
  // size, the view keeps its outcome (the end reached, or the right-most step) in sight with the steps
  // that led to it on its left.
  function focusPath(canvas, registry, ids) {
    var shapes = shapesOf(registry, ids);
    if (!shapes.length) { return false; }
    var b = box(shapes), size = canvas.getSize(), pad = 60;
    var scale = Math.min(1, size.width / (b.maxX - b.minX + 2 * pad), size.height / (b.maxY - b.minY + 2 * pad));
    if (scale >= READABLE) {
      show_at(canvas, (b.minX + b.maxX) / 2, (b.minY + b.maxY) / 2, scale);
      return true;
    }
    var ends = shapes.filter(function (e) { return e.type === "bpmn:EndEvent"; });
    var anchor = (ends.length ? ends : shapes).reduce(function (a, e) { return e.x > a.x ? e : a; });
    var w = size.width / READABLE, h = size.height / READABLE;
    var cx = Math.max(b.minX - pad + w / 2, anchor.x + anchor.width + pad - w / 2);
    var cy = Math.min(Math.max(anchor.y + anchor.height / 2, b.minY - pad + h / 2), b.maxY + pad - h / 2);
    show_at(canvas, cx, cy, READABLE);
    return true;
  }
  // Ctrl (or ⌘) + wheel zooms around the pointer, as the hint says; the plain wheel scrolls the page.
  // The viewer's own wheel handling is off: it only listens after the pointer has entered the canvas,
  // so until then the browser zoomed the whole page.
  function wheelZoom(container, canvas) {
    container.addEventListener("wheel", function (event) {
      if (!event.ctrlKey && !event.metaKey) { return; }
      event.preventDefault();
      var rect = container.getBoundingClientRect();
      var factor = Math.exp(-Math.max(-120, Math.min(120, event.deltaY)) * 0.003);
      var scale = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, canvas.zoom() * factor));
      canvas.zoom(scale, { x: event.clientX - rect.left, y: event.clientY - rect.top });
    }, { passive: false });
  }
  function mark(canvas, registry, ids, marker) {
    ids.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, marker); } });
  }
  function draw(container) {
    var src = container.getAttribute("data-src");
    if (!window.BpmnJS) { show(container, "No se pudo cargar el visor de diagramas."); return; }
    fetch(src, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (view) {
        container.innerHTML = "";
        var failed = view.failed || [];
        var viewer = new window.BpmnJS({ container: container, zoomScroll: { enabled: false } });
        return viewer.importXML(view.xml).then(function () {
          var canvas = viewer.get("canvas");
          var registry = viewer.get("elementRegistry");
          mark(canvas, registry, view.completed, "tr-completed");
          mark(canvas, registry, view.active, "tr-active");
          mark(canvas, registry, failed, "tr-failed");
          wheelZoom(container, canvas);
          canvas.zoom("fit-viewport", "auto");
          var current = view.active.concat(failed);
          if (failed.length) {
            focus(canvas, registry, current);
          } else if (view.ended) {
            focusPath(canvas, registry, view.completed);
          } else if (canvas.viewbox().scale < 0.6) {
            // A large procedure fitted whole is too small to read: show what is in course, at a legible size.
            focus(canvas, registry, view.active);
          }
          var all = document.getElementById("bpmn-fit"), here = document.getElementById("bpmn-current");
          var key = document.getElementById("bpmn-failed-key");
          if (key && failed.length) { key.hidden = false; }
          if (all) { all.hidden = false; all.addEventListener("click", function () { canvas.zoom("fit-viewport", "auto"); }); }
          if (here && current.length) {
            here.hidden = false;
            here.addEventListener("click", function () { focus(canvas, registry, current); });
          }
          container.setAttribute("data-ready", "true");
          container.setAttribute("data-active", view.active.join(" "));
          container.setAttribute("data-failed", failed.join(" "));
        });
      })
      .catch(function (err) { show(container, "No se pudo mostrar el diagrama (" + err.message + ")."); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("bpmn");
    if (el) { draw(el); }
  });
})();
