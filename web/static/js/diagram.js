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
