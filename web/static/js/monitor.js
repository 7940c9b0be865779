/* The manager console's charts (Chart.js) and the heatmap on the bpmn-js diagram. The figures come
   from the server: a JSON script element (charts) or a JSON endpoint (heatmap). No inline script. */
(function () {
  "use strict";
  var LATE = "#b91c1c", OPEN = "#d97706", LOW = "#7c3aed", OK = "#15803d";

  function charts() {
    var el = document.getElementById("chart-data");
    if (!el || !window.Chart) { return; }
    var data = JSON.parse(el.textContent);
    var weekly = document.getElementById("chart-weekly");
    if (weekly) {
      new window.Chart(weekly, { type: "bar", data: { labels: data.weekly.labels, datasets: [
        { label: "Iniciados", data: data.weekly.opened, backgroundColor: "#1d4ed8" },
        { label: "Concluidos", data: data.weekly.closed, backgroundColor: OK }] },
        options: { animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
    }
    var hours = document.getElementById("chart-hours");
    if (hours) {
      var palette = ["#1d4ed8", "#0f766e", "#7c3aed", "#b45309"];
      new window.Chart(hours, { type: "bar", data: { labels: data.hours.labels,
        datasets: data.hours.series.map(function (s, i) {
          return { label: s.title + " (plazo: " + s.term + " h)", data: s.counts, backgroundColor: palette[i % palette.length] };
        }) },
        options: { animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } },
                                                x: { title: { display: true, text: "Tiempo para completar" } } } } });
    }
    var terms = document.getElementById("chart-terms");
    if (terms) {
      new window.Chart(terms, { type: "bar", data: { labels: data.terms.map(function (t) { return t.title; }),
        datasets: [{ label: "% dentro del plazo", data: data.terms.map(function (t) { return Math.round((t.share || 0) * 100); }),
                     backgroundColor: data.terms.map(function (t) { return (t.share || 0) >= 0.8 ? OK : LATE; }) }] },
        options: { animation: false, indexAxis: "y", scales: { x: { min: 0, max: 100 } } } });
    }
  }

  function colour(e) {
    if (e.overdue > 0) { return ["heat-late", LATE]; }
    if (e.open_tasks > 0) { return ["heat-open", OPEN]; }
    if (e.within_term !== null && e.within_term < 0.8) { return ["heat-low", LOW]; }
    if (e.completed > 0) { return ["heat-ok", OK]; }
    return [null, null];
  }

  function describe(e) {
    var parts = ["Abiertas: " + e.open_tasks, "Vencidas: " + e.overdue, "Completadas: " + e.completed];
    if (e.median_hours !== null) { parts.push("Mediana: " + e.median_hours + " h", "P90: " + e.p90_hours + " h"); }
    if (e.within_term !== null) { parts.push("En plazo: " + Math.round(e.within_term * 100) + " %"); }
    return parts.join(" · ");
  }

  function heatmap(container) {
    if (!window.BpmnJS) { container.textContent = "No se pudo cargar el visor de diagramas."; return; }
    fetch(container.getAttribute("data-src"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (view) {
        container.innerHTML = "";
        var viewer = new window.BpmnJS({ container: container });
        return viewer.importXML(view.xml).then(function () {
          var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry"), overlays = viewer.get("overlays");
          view.elements.forEach(function (e) {
            if (!registry.get(e.element)) { return; }
            var c = colour(e);
            if (!c[0]) { return; }
            canvas.addMarker(e.element, c[0]);
            var badge = document.createElement("div");
            badge.className = "heat-badge " + c[0];
            badge.textContent = e.overdue > 0 ? e.overdue + " venc." : (e.open_tasks > 0 ? e.open_tasks + " ab." : (e.within_term !== null ? Math.round(e.within_term * 100) + " %" : "✓"));
            badge.title = describe(e);
            badge.setAttribute("data-element", e.element);
            overlays.add(e.element, { position: { top: -12, right: 12 }, html: badge });
          });
          canvas.zoom("fit-viewport", "auto");
          container.setAttribute("data-ready", "true");
        });
      })
      .catch(function (err) { container.textContent = "No se pudo mostrar el diagrama (" + err.message + ")."; });
  }

  /* A bulk action, one case per request, so the page shows progress and a result per case as it goes;
     without this script the form posts all cases at once and the server answers with the results page. */
  function bulk(form) {
    var panel = document.getElementById("bulk-progress");
    if (!panel) { return; }
    form.addEventListener("submit", function (ev) {
      var ids = Array.prototype.map.call(form.querySelectorAll("input[name=casos]:checked"), function (c) { return c.value; });
      ids = ids.filter(function (v, i) { return ids.indexOf(v) === i; });
      var status = document.getElementById("bulk-status"), body = panel.querySelector("tbody");
      ev.preventDefault();
      panel.hidden = false;
      panel.removeAttribute("data-done");
      body.innerHTML = "";
      if (!ids.length) { status.textContent = "Elija al menos un caso."; panel.setAttribute("data-done", "true"); return; }
      var done = 0, ok = 0, button = form.querySelector("button[type=submit]");
      button.disabled = true;
      function next() {
        if (done === ids.length) {
          status.textContent = "Terminado: " + ok + " de " + ids.length + " casos atendidos.";
          panel.setAttribute("data-done", "true");
          button.disabled = false;
          return;
        }
        status.textContent = "Procesando el caso " + (done + 1) + " de " + ids.length + "…";
        var data = new URLSearchParams();
        data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
        data.append("accion", form.querySelector("[name=accion]").value);
        data.append("motivo", form.querySelector("[name=motivo]").value);
        data.append("casos", ids[done]);
        data.append("fila", "1");
        fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
          .then(function (r) { return r.text().then(function (t) { return [r.ok, t]; }); })
          .then(function (res) {
            if (!res[0]) { throw new Error(res[1]); }
            body.insertAdjacentHTML("beforeend", res[1]);
            if (res[1].indexOf('data-done="true"') >= 0) { ok += 1; }
            done += 1;
            next();
          })
          .catch(function (err) {
            status.textContent = err.message;
            panel.setAttribute("data-done", "true");
            button.disabled = false;
          });
      }
      next();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    charts();
    var form = document.getElementById("bulk");
    if (form) { bulk(form); }
    var el = document.getElementById("heatmap");
    if (el) { heatmap(el); }
  });
})();
