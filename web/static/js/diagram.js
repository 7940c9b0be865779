/* The case's BPMN diagram, drawn with the bpmn-js viewer (NavigatedViewer: pan and zoom, no editing).
   Completed elements are marked, current ones highlighted. No inline script: CSP allows 'self' only. */
(function () {
  "use strict";
  function show(container, message) {
    container.innerHTML = "";
    var p = document.createElement("p");
    p.className = "muted";
    p.textContent = message;
    container.appendChild(p);
  }
  // The viewbox that shows these elements, at most at natural size (scale 1).
  function focus(canvas, registry, ids) {
    var shapes = ids.map(function (id) { return registry.get(id); })
      .filter(function (e) { return e && e.width !== undefined && e.type !== "bpmn:SubProcess"; });
    if (!shapes.length) { return false; }
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    shapes.forEach(function (e) {
      minX = Math.min(minX, e.x); minY = Math.min(minY, e.y);
      maxX = Math.max(maxX, e.x + e.width); maxY = Math.max(maxY, e.y + e.height);
    });
    var size = canvas.getSize(), pad = 120;
    var scale = Math.min(1, size.width / (maxX - minX + 2 * pad), size.height / (maxY - minY + 2 * pad));
    var w = size.width / scale, h = size.height / scale;
    canvas.viewbox({ x: (minX + maxX) / 2 - w / 2, y: (minY + maxY) / 2 - h / 2, width: w, height: h });
    return true;
  }
  function draw(container) {
    var src = container.getAttribute("data-src");
    if (!window.BpmnJS) { show(container, "No se pudo cargar el visor de diagramas."); return; }
    fetch(src, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (view) {
        container.innerHTML = "";
        var viewer = new window.BpmnJS({ container: container });
        return viewer.importXML(view.xml).then(function () {
          var canvas = viewer.get("canvas");
          var registry = viewer.get("elementRegistry");
          view.completed.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "tr-completed"); } });
          view.active.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "tr-active"); } });
          canvas.zoom("fit-viewport", "auto");
          // A large procedure fitted whole is too small to read: show what is in course, at a legible size.
          if (canvas.viewbox().scale < 0.6) { focus(canvas, registry, view.active); }
          var all = document.getElementById("bpmn-fit"), current = document.getElementById("bpmn-current");
          if (all) { all.hidden = false; all.addEventListener("click", function () { canvas.zoom("fit-viewport", "auto"); }); }
          if (current && view.active.length) {
            current.hidden = false;
            current.addEventListener("click", function () { focus(canvas, registry, view.active); });
          }
          container.setAttribute("data-ready", "true");
          container.setAttribute("data-active", view.active.join(" "));
        });
      })
      .catch(function (err) { show(container, "No se pudo mostrar el diagrama (" + err.message + ")."); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("bpmn");
    if (el) { draw(el); }
  });
})();
