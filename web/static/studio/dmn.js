// Decision tables (DMN) in the same studio: dmn-js Modeler for drafts, dmn-js Viewer for versions.
import DmnModeler from 'dmn-js/lib/Modeler';
import DmnViewer from 'dmn-js/lib/Viewer';
import translateModule from './translate-es.js';

const views = { drd: { additionalModules: [translateModule] }, decisionTable: { additionalModules: [translateModule] },
  literalExpression: { additionalModules: [translateModule] } };

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

async function openTable(dmn) {
  const table = dmn.getViews().find((v) => v.type === 'decisionTable');
  if (table) await dmn.open(table);
}

function renderFindings(findings, list) {
  list.replaceChildren();
  findings.forEach((f) => {
    const li = document.createElement('li');
    li.className = `finding finding-${f.severity}`;
    const strong = document.createElement('strong');
    strong.textContent = f.severity === 'error' ? 'Error' : 'Advertencia';
    li.append(strong, ` ${f.element_id || f.file}: ${f.message} `);
    const code = document.createElement('code');
    code.textContent = f.rule;
    li.append(code);
    list.append(li);
  });
}

export async function edit() {
  const page = readJson('dmn-config');
  const modeler = new DmnModeler({ container: '#dmn-canvas', ...views });
  const status = document.getElementById('lint-status');
  const list = document.getElementById('findings');
  const state = { findings: [], dirty: false, modeler, saving: null };
  window.__studio = state;
  await modeler.importXML(readJson('draft-xml'));
  await openTable(modeler);

  async function check() {
    const { xml } = await modeler.saveXML({ format: true });
    status.textContent = 'Guardando y revisando…';
    const response = await fetch(page.checkUrl, {
      method: 'POST', headers: { 'Content-Type': 'application/xml', 'X-CSRFToken': page.csrf }, body: xml
    });
    const body = await response.json();
    if (!response.ok) { status.textContent = body.message || 'No se pudo guardar el borrador.'; return body; }
    state.findings = body.findings;
    state.dirty = false;
    renderFindings(body.findings, list);
    status.textContent = `Borrador guardado · ${body.errors} error(es), ${body.warnings} advertencia(s)`;
    return body;
  }
  state.check = () => (state.saving = check());
  let timer = null;
  const attach = () => {
    const viewer = modeler.getActiveViewer();
    if (viewer && !viewer.__tramita) {
      viewer.__tramita = true;
      viewer.get('eventBus').on('commandStack.changed', () => {
        state.dirty = true;
        clearTimeout(timer);
        timer = setTimeout(state.check, 700);
      });
    }
  };
  attach();
  modeler.on('views.changed', attach);
  const form = document.getElementById('submit-form');
  if (form) {
    form.addEventListener('submit', async (event) => {
      if (form.dataset.checked) return;
      event.preventDefault();
      clearTimeout(timer);
      await state.check();
      form.dataset.checked = '1';
      form.requestSubmit();
    });
  }
  await state.check();
  document.body.dataset.studioReady = '1';
}

export async function view() {
  const page = readJson('dmn-viewer-config');
  await Promise.all(page.diagrams.map(async (d) => {
    const viewer = new DmnViewer({ container: d.container, ...views });
    await viewer.importXML(readJson(d.xml));
    await openTable(viewer);
  }));
  document.body.dataset.studioReady = String(page.diagrams.length);
}

document.addEventListener('DOMContentLoaded', () => {
  if (document.getElementById('dmn-config')) edit();
  else if (document.getElementById('dmn-viewer-config')) view();
});
